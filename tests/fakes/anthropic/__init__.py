"""A fake Anthropic Messages API, driven by the real, unmodified `anthropic` SDK and the Claude Code CLI.

    async with running_fake_anthropic([Turn.text("Hello")]) as fake:
        client = AsyncAnthropic(base_url=fake.base_url, api_key=fake.api_key, max_retries=0)
        ...
        assert fake.message_requests()[0].body["model"] == "m"

Scripting. Each `POST /v1/messages` takes the next answer of one script; answers are
- `Turn`: an assistant message. `Turn.text("Hi")`, `Turn.tool_use("Write", {"file_path": "a.txt"})`, or
  `Turn([thinking("hmm"), text("Hi"), tool_use("Bash", {"command": "ls"})], stop_reason=..., usage=Usage(...))`.
  Streamed as SSE when the request has `"stream": true` (text and thinking in several deltas, tool input as
  input_json_delta fragments cut mid-JSON), else sent as one JSON message;
- `HttpFault`: `Fault.rate_limited(retry_after=1)` (429), `Fault.server_error()` (500), `Fault.overloaded()`
  (529), `Fault.bad_request("...")` (400), or `Fault.http(status, error_type, message, headers)`;
- `StreamFault`: a stream that starts a turn and breaks inside its last block: `Fault.error_event()` (an
  `event: error`), `Fault.garbage()` (unreadable SSE), `Fault.truncated()` (connection closed mid-body).

Every request takes one answer, retries included: a client that retries a 529 takes the next answer, and
the Claude Code CLI, after a broken stream, re-sends the request without streaming and takes another.

Selecting a script. `fake.script([...], name="a")` fills script "a", taken by requests carrying the header
`x-fake-script: a` (`SCRIPT_HEADER`; the CLI sends it with `ANTHROPIC_CUSTOM_HEADERS="x-fake-script: a"`, the
SDK with `default_headers`). Requests without the header take from script "default", which the answers given
to `running_fake_anthropic` fill. A script with nothing left answers 500 (`x-should-retry: false`).

Keys. The fake accepts only its own key (`fake.api_key`, or `api_key=` to `running_fake_anthropic`), sent
as `x-api-key` or `Authorization: Bearer`; any other gets a 401 `authentication_error`.

What the fake saw. `fake.requests` (every request: method, path, query, headers, JSON body, script; with
`api_key`, `stream`, `messages` and `tool_results` helpers), `fake.message_requests(script=None)`,
`fake.remaining(name)`, and `fake.unexpected`: unknown endpoints (404), requests the real API would refuse
for their shape (400), exhausted scripts (500). The context manager fails the test on the way out if that
list is not empty, unless given `fail_on_unexpected=False`.
"""

from tests.fakes.anthropic.recording import RecordedRequest
from tests.fakes.anthropic.script import (
    Answer,
    ApiError,
    Fault,
    HttpFault,
    StreamFault,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    Turn,
    Usage,
    text,
    thinking,
    tool_use,
)
from tests.fakes.anthropic.server import API_KEY, FakeAnthropic, running_fake_anthropic
from tests.fakes.shared import DEFAULT_SCRIPT, SCRIPT_HEADER

__all__ = [
    "API_KEY",
    "DEFAULT_SCRIPT",
    "SCRIPT_HEADER",
    "Answer",
    "ApiError",
    "FakeAnthropic",
    "Fault",
    "HttpFault",
    "RecordedRequest",
    "StreamFault",
    "TextBlock",
    "ThinkingBlock",
    "ToolUseBlock",
    "Turn",
    "Usage",
    "running_fake_anthropic",
    "text",
    "thinking",
    "tool_use",
]
