"""The fake Gemini API, driven by the real Gemini CLI (0.61.0, installed by `npm install` in the repo root) on
this host: what the CLI makes of each scripted answer and fault, and how it resumes a session from its
transcript in a fresh HOME. Runs that can go together run concurrently, each on its own script.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from agent_runtime.agents import gemini_transcript
from tests.fakes.gemini import (
    SCRIPT_HEADER,
    Answer,
    FakeGemini,
    Fault,
    Turn,
    function_call,
    running_fake_gemini,
    text,
    thought,
)
from tests.fakes.gemini.script import pieces

REPO = Path(__file__).resolve().parents[2]
GEMINI = REPO / "node_modules" / ".bin" / "gemini"
MODEL = "gemini-2.5-flash"
CLI_SECONDS = 120


@dataclass
class Run:
    """One `gemini -p ... -o stream-json` run: its exit code, stdout's JSON lines and its stderr."""

    returncode: int
    lines: list[dict[str, Any]]
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        [result] = [line for line in self.lines if line["type"] == "result"]
        return result

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["type"] == kind]

    @property
    def deltas(self) -> list[str]:
        return [line["content"] for line in self.of_type("message") if line["role"] == "assistant"]


def settings(max_attempts: int | None = None) -> dict[str, Any]:
    """The settings the CLI needs offline: API-key auth chosen (GOOGLE_GEMINI_BASE_URL alone makes it pick the
    "gateway" auth, which headless mode refuses), no usage statistics, no telemetry."""
    found: dict[str, Any] = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
    }
    if max_attempts is not None:
        found["general"] = {"maxAttempts": max_attempts}
    return found


async def gemini(
    fake: FakeGemini,
    root: Path,
    prompt: str,
    *args: str,
    script: str,
    max_attempts: int | None = None,
    model: str | None = MODEL,
) -> Run:
    """Runs the CLI in `root`/workspace with HOME `root`/home, whose settings it writes."""
    if not GEMINI.exists():
        pytest.fail(f"the Gemini CLI is not installed at {GEMINI}: run `npm install` in {REPO}")
    workspace, home = root / "workspace", root / "home"
    workspace.mkdir(parents=True, exist_ok=True)
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings(max_attempts)))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "TMPDIR": str(home),  # where the CLI writes its error reports
        "GOOGLE_GEMINI_BASE_URL": fake.base_url,
        "GEMINI_API_KEY": fake.api_key,
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
        "GEMINI_CLI_CUSTOM_HEADERS": f"{SCRIPT_HEADER}: {script}",
    }
    command = [str(GEMINI), *(["-m", model] if model else []), "--approval-mode", "yolo", "-p", prompt]
    command += ["-o", "stream-json", *args]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=workspace, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), CLI_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    lines = [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]
    return Run(process.returncode, lines, stderr.decode())


async def test_a_scripted_turn_writes_a_file_runs_a_command_and_streams_its_text(tmp_path: Path) -> None:
    answers = [
        Turn(
            [
                thought("**Planning** A note first, then its size."),
                text("Writing the note now."),
                function_call("write_file", {"file_path": "notes/todo.txt", "content": "buy milk\n"}),
            ]
        ),
        Turn([function_call("run_shell_command", {"command": "wc -c < notes/todo.txt > size.txt; echo counted"})]),
        Turn([text("All done: notes/todo.txt has 9 bytes.", pieces=4)]),
    ]
    async with running_fake_gemini() as fake:
        fake.script(answers, name="tools")
        run = await gemini(fake, tmp_path, "Note that I need milk, then count its bytes.", script="tools")

    workspace = tmp_path / "workspace"
    assert run.returncode == 0, run.stderr
    assert (workspace / "notes" / "todo.txt").read_text() == "buy milk\n"
    assert (workspace / "size.txt").read_text().strip() == "9", "the command ran in the workspace"

    assert [(line["tool_name"], line["parameters"]) for line in run.of_type("tool_use")] == [
        ("write_file", {"file_path": "notes/todo.txt", "content": "buy milk\n"}),
        ("run_shell_command", {"command": "wc -c < notes/todo.txt > size.txt; echo counted"}),
    ]
    assert [line["status"] for line in run.of_type("tool_result")] == ["success", "success"]
    assert run.of_type("tool_result")[1]["output"] == "counted"
    assert run.deltas[-4:] == pieces("All done: notes/todo.txt has 9 bytes.", 4), "one message line per chunk"
    assert "".join(run.deltas) == "Writing the note now.All done: notes/todo.txt has 9 bytes."
    assert run.result["status"] == "success" and run.result["stats"]["tool_calls"] == 2

    first, second, third = fake.generate_requests("tools")
    assert all(request.api_key == fake.api_key for request in fake.requests)
    assert (first.model, first.rpc, first.query.get("alt")) == (MODEL, "streamGenerateContent", "sse")
    assert "Note that I need milk, then count its bytes." in first.texts
    assert {"write_file", "run_shell_command"} <= set(first.tool_names)
    assert [call["name"] for call in second.function_calls] == ["write_file"]
    [written] = second.function_responses
    assert written["response"]["output"].startswith("Successfully created and wrote to new file")
    assert "counted" in third.function_responses[-1]["response"]["output"]
    assert not any(request.json_call for request in fake.requests), "with -m, no router call"


async def test_without_a_model_the_cli_routes_the_prompt_through_a_json_call(tmp_path: Path) -> None:
    async with running_fake_gemini() as fake:
        fake.script([Turn.text("Routed.")], name="auto")
        run = await gemini(fake, tmp_path, "Hi", script="auto", model=None)

    assert run.returncode == 0, run.stderr
    assert "[Routing]" not in run.stderr, "the router took the fake's answer"
    router, answer = fake.requests
    assert router.json_call and router.rpc == "generateContent" and router.script is None
    schema = router.generation_config["responseJsonSchema"]
    assert set(schema["properties"]) == {"complexity_reasoning", "complexity_score"}
    assert answer.script == "auto" and answer.model != router.model
    assert "".join(run.deltas) == "Routed."


async def test_what_the_cli_does_with_each_fault(tmp_path: Path) -> None:
    partial = Turn([text("Half an answ")])
    scripts: dict[str, list[Answer]] = {
        "quota": [Fault.quota_exhausted()],
        "internal": [Fault.server_error()],
        "overloaded": [Fault.overloaded(), Turn.text("Back again.")],
        "malformed": [Fault.malformed(partial)],
        "truncated": [Fault.truncated(partial)],
    }
    async with running_fake_gemini() as fake:
        for name, answers in scripts.items():
            fake.script(answers, name=name)
        runs = dict(
            zip(
                scripts,
                await asyncio.gather(
                    *(
                        # Without a cap the CLI retries a 500 up to 10 times, 5 s apart and doubling.
                        gemini(fake, tmp_path / name, "Hi", script=name, max_attempts=1 if name == "internal" else None)
                        for name in scripts
                    )
                ),
                strict=True,
            )
        )
        requests = {name: len(fake.generate_requests(name)) for name in scripts}

    # The exit code is the HTTP status modulo 256 (process.exit(status)).
    assert runs["quota"].returncode == 429 % 256
    assert "You have exhausted your daily quota on this model." in runs["quota"].result["error"]["message"]
    assert runs["internal"].returncode == 500 % 256
    assert "An internal error has occurred" in runs["internal"].result["error"]["message"]
    assert (requests["quota"], requests["internal"]) == (1, 1), "a daily quota, or no attempts left: no retry"

    assert runs["overloaded"].returncode == 0, runs["overloaded"].stderr
    assert requests["overloaded"] == 2, "a 503 is retried, silently in the stream"
    assert runs["overloaded"].result["status"] == "success" and "".join(runs["overloaded"].deltas) == "Back again."

    for broken in ("malformed", "truncated"):
        assert runs[broken].returncode == 1
        assert requests[broken] == 1, "a stream broken mid-answer is not retried"
        assert "".join(runs[broken].deltas) == "Half an answ", "the text before the break was streamed"
        assert runs[broken].result["status"] == "error"
    assert runs["malformed"].result["error"]["message"].startswith("[API Error: Unterminated string in JSON")
    assert runs["truncated"].result["error"]["message"] == "[API Error: terminated]"


async def test_a_session_resumes_from_its_transcript_in_a_fresh_home(tmp_path: Path) -> None:
    session_id = str(uuid.uuid4())
    async with running_fake_gemini(fail_on_unexpected=False) as fake:
        fake.script([Turn.function_call("write_file", {"file_path": "word.txt", "content": "banana\n"})], name="first")
        fake.script([Turn.text("I wrote the word down.")], name="first")
        fake.script([Turn.text("The word was banana.")], name="resumed")
        first = await gemini(fake, tmp_path / "first", "Write down banana.", "--session-id", session_id, script="first")
        assert first.returncode == 0, first.stderr

        # <project> is the working directory's base name, slugified: "workspace".
        chats = tmp_path / "first" / "home" / ".gemini" / "tmp" / "workspace" / "chats"
        [transcript] = chats.glob(f"session-*-{session_id[:8]}.jsonl")
        raw = transcript.read_text()
        # Put back under a name of an earlier minute, as a runtime restoring an older session does (the CLI reads
        # only the "session-" prefix and the "-<id[:8]>.jsonl" suffix).
        restored = f"session-2026-01-01T00-00-{session_id[:8]}.jsonl"
        for root, content in (("as-written", raw), ("resumable", gemini_transcript.resumable(raw))):
            fresh = tmp_path / root / "home" / ".gemini" / "tmp" / "workspace" / "chats"
            fresh.mkdir(parents=True)
            (fresh / restored).write_text(content)
        as_written, resumed = await asyncio.gather(
            gemini(fake, tmp_path / "as-written", "What was the word?", "--resume", session_id, script="as-written"),
            gemini(fake, tmp_path / "resumable", "What was the word?", "--resume", session_id, script="resumed"),
        )

    # As the CLI wrote it, the transcript gives the tool's result twice, and the API refuses the history.
    assert as_written.returncode == 400 % 256
    assert "number of function response parts" in as_written.result["error"]["message"]
    [refused] = fake.unexpected
    assert "number of function response parts" in refused

    assert resumed.returncode == 0, resumed.stderr
    assert resumed.of_type("init")[0]["session_id"] == session_id
    [request] = fake.generate_requests("resumed")
    history = [_summary(content) for content in request.contents]
    assert history[0][0] == "user" and "Write down banana." in history[0][1]
    assert history[1:] == [
        ("model", ["call write_file"]),
        ("user", ["response write_file"]),
        ("model", ["I wrote the word down."]),
        ("user", ["What was the word?"]),
    ]
    # The CLI goes on in the file it resumed, and also leaves a file named for the minute it started in, with
    # no conversation in it.
    chats = tmp_path / "resumable" / "home" / ".gemini" / "tmp" / "workspace" / "chats"
    continued = chats / restored
    [stray] = [other for other in chats.glob("*.jsonl") if other != continued]
    assert stray.name.endswith(f"-{session_id[:8]}.jsonl") and gemini_transcript.parse(stray.read_text()) == []
    before, after = gemini_transcript.parse(raw), gemini_transcript.parse(continued.read_text())
    assert [block.id for block in after[: len(before)]] == [block.id for block in before]
    assert [block.WhichOneof("kind") for block in after[len(before) :]] == ["user_message", "assistant_text"]
    assert after[-1].assistant_text.content == "The word was banana."


def _summary(content: Mapping[str, Any]) -> tuple[str, list[str]]:
    parts = []
    for part in content["parts"]:
        if "functionCall" in part:
            parts.append(f"call {part['functionCall']['name']}")
        elif "functionResponse" in part:
            parts.append(f"response {part['functionResponse']['name']}")
        else:
            parts.append(part.get("text", ""))
    return content["role"], parts


async def _post(fake: FakeGemini, path: str, body: Any, headers: Mapping[str, str]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}{path}", json=body, headers=dict(headers)) as response,
    ):
        return response.status, await response.json(content_type=None)


HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]}
GENERATE = f"/v1beta/models/{MODEL}:generateContent"


async def test_keys_are_checked_as_google_does_and_a_refused_call_takes_no_answer() -> None:
    async with running_fake_gemini([Turn.text("Hi")]) as fake:
        missing = await _post(fake, GENERATE, HELLO, {})
        wrong = await _post(fake, GENERATE, HELLO, {"x-goog-api-key": "AIza-not-this-one"})
        by_query = await _post(fake, f"{GENERATE}?key={fake.api_key}", HELLO, {})

    assert (missing[0], missing[1]["error"]["status"]) == (403, "PERMISSION_DENIED")
    assert (wrong[0], wrong[1]["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert wrong[1]["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    assert by_query[0] == 200
    assert by_query[1]["candidates"][0]["content"]["parts"] == [{"text": "Hi"}]
    assert by_query[1]["candidates"][0]["finishReason"] == "STOP"


async def test_a_call_asking_for_json_gets_an_instance_of_its_schema_and_takes_no_answer() -> None:
    schema = {
        "type": "object",
        "properties": {
            "complexity_reasoning": {"type": "string"},
            "complexity_score": {"type": "integer", "minimum": 1, "maximum": 100},
        },
        "required": ["complexity_reasoning", "complexity_score"],
    }
    body = {**HELLO, "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": schema}}
    async with running_fake_gemini([Turn.text("kept")]) as fake:
        status, answer = await _post(fake, GENERATE, body, {"x-goog-api-key": fake.api_key})
        assert fake.remaining() == 1

    assert status == 200
    assert json.loads(answer["candidates"][0]["content"]["parts"][0]["text"]) == {
        "complexity_reasoning": "fake answer",
        "complexity_score": 1,
    }


async def test_unknown_endpoints_and_exhausted_scripts_fail_the_test_on_the_way_out() -> None:
    with pytest.raises(AssertionError, match="did not expect"):
        async with running_fake_gemini() as fake:
            key = {"x-goog-api-key": fake.api_key}
            unknown = await _post(fake, f"/v1beta/models/{MODEL}:embedContent", HELLO, key)
            exhausted = await _post(fake, GENERATE, HELLO, key)
            assert (unknown[0], exhausted[0]) == (404, 400)
            assert len(fake.unexpected) == 2
