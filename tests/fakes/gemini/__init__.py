"""A fake Gemini API (generativelanguage.googleapis.com), driven by the real, unmodified Gemini CLI.

    async with running_fake_gemini([Turn.text("Hello")]) as fake:
        env = {"GOOGLE_GEMINI_BASE_URL": fake.base_url, "GEMINI_API_KEY": fake.api_key, ...}
        ...  # run `gemini -m gemini-2.5-flash -p ... -o stream-json`
        assert fake.generate_requests()[0].model == "gemini-2.5-flash"

Scripting. Each generateContent or streamGenerateContent call takes the next answer of one script; answers are
- `Turn`: a model message. `Turn.text("Hi")`, `Turn.function_call("write_file", {"file_path": ..., "content":
  ...})`, or `Turn([thought("hmm"), text("Hi"), function_call("run_shell_command", {"command": "ls"})],
  finish_reason=..., usage=Usage(...))`. Streamed as SSE (`data: <GenerateContentResponse>\\r\\n\\r\\n`, no
  `event:` lines) with text in several chunks, a thought in one (the CLI keeps each thought chunk as a thought
  of its own; `thought(..., pieces=n)` to cut one), each function call whole, and finishReason and
  usageMetadata in the last chunk; sent as one JSON response to generateContent;
- `HttpFault`: `Fault.rate_limited(retry_delay="1s")` (429, retried by clients), `Fault.quota_exhausted()`
  (429 per day, which the CLI does not retry), `Fault.server_error()` (500), `Fault.overloaded()` (503
  UNAVAILABLE), `Fault.bad_request("...")` (400), or `Fault.http(code, status, message, details, headers)`,
  all with Google's body `{"error": {"code", "message", "status", "details"?}}`;
- `StreamFault`: a stream that sends part of a turn and breaks before finishing: `Fault.malformed()` (an event
  whose data is cut mid-JSON), `Fault.truncated()` (connection closed mid-body).

Every scripted call takes one answer, retries included: a client that retries a 503 takes the next answer.
Calls asking for `responseMimeType: application/json` (the CLI's model router with `-m auto`, and other
auxiliary calls) take none: they get an instance of the schema they sent.

Selecting a script. `fake.script([...], name="a")` fills script "a", taken by calls carrying the header
`x-fake-script: a` (`SCRIPT_HEADER`; the Gemini CLI sends it with `GEMINI_CLI_CUSTOM_HEADERS="x-fake-script:
a"`, several headers comma-separated). Calls without the header take from script "default", which the answers
given to `running_fake_gemini` fill. A script with nothing left answers 400 FAILED_PRECONDITION, which the CLI
does not retry (it retries a 500 up to 10 times, from 5 s apart).

Keys. The fake accepts only its own key (`fake.api_key`, or `api_key=` to `running_fake_gemini`), sent as
`x-goog-api-key` or `?key=`; like Google it answers a missing key with 403 PERMISSION_DENIED and a wrong one
with 400 INVALID_ARGUMENT (reason API_KEY_INVALID).

What the fake saw. `fake.requests` (every request: method, path, query, headers, JSON body, model, rpc,
script; with `api_key`, `json_call`, `contents`, `texts`, `function_calls`, `function_responses` and
`tool_names` helpers), `fake.generate_requests(script=None)`, `fake.remaining(name)`, and `fake.unexpected`:
unknown endpoints (404), requests the real API would refuse for their shape (400: no contents, empty parts,
function calls not followed by as many function responses), exhausted scripts.
The context manager fails the test on the way out if that list is not empty, unless given
`fail_on_unexpected=False`.
"""

from tests.fakes.gemini.recording import RecordedRequest
from tests.fakes.gemini.script import (
    Answer,
    ApiError,
    Fault,
    FunctionCallPart,
    HttpFault,
    StreamFault,
    TextPart,
    ThoughtPart,
    Turn,
    Usage,
    function_call,
    text,
    thought,
)
from tests.fakes.gemini.server import API_KEY, FakeGemini, running_fake_gemini
from tests.fakes.shared import DEFAULT_SCRIPT, SCRIPT_HEADER

__all__ = [
    "API_KEY",
    "DEFAULT_SCRIPT",
    "SCRIPT_HEADER",
    "Answer",
    "ApiError",
    "FakeGemini",
    "Fault",
    "FunctionCallPart",
    "HttpFault",
    "RecordedRequest",
    "StreamFault",
    "TextPart",
    "ThoughtPart",
    "Turn",
    "Usage",
    "function_call",
    "running_fake_gemini",
    "text",
    "thought",
]
