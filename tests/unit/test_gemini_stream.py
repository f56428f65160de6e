"""The Gemini CLI's stream-json lines, recorded from the real CLI 0.61.0 against the fake Gemini API, as the
block events a client sees.

tools.jsonl: text, write_file, text, run_shell_command, a read_file that fails, text (the same run as the
transcript fixture tools.jsonl). resumed.jsonl: the next turn, after --resume. broken-stream.jsonl: a stream
that broke mid-answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.agents import gemini_transcript
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.agents.gemini_stream import GeminiStream
from agent_runtime.events.log import EventLog

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MODEL = "gemini-2.5-flash"
WRITE = "write_file__write_file_1795313409425_0"
READ = "read_file__read_file_1795313409709_0"


class RecordingLog:
    """Stands in for the EventLog: keeps what is appended."""

    def __init__(self) -> None:
        self.events: list[events_pb2.SessionEvent] = []

    def append(self, event: events_pb2.SessionEvent) -> None:
        self.events.append(event)


def lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (FIXTURES / "gemini-stream" / name).read_text().splitlines()]


def run(fed: list[dict[str, Any]]) -> tuple[list[events_pb2.SessionEvent], GeminiStream]:
    log = RecordingLog()
    stream = GeminiStream(BlockEmitter(cast(EventLog, log), "session-1"), MODEL)
    for line in fed:
        stream.feed(line)
    stream.stop()
    return log.events, stream


def of_block(events: list[events_pb2.SessionEvent], block_id: str) -> list[str]:
    """What happened to one block: "start", "delta:<text>", "update:<status>", "complete"."""
    found = []
    for event in events:
        kind = event.WhichOneof("payload")
        if kind == "block_start" and event.block_start.block.id == block_id:
            found.append("start")
        elif kind == "block_delta" and event.block_delta.block_id == block_id:
            found.append(f"delta:{event.block_delta.delta}")
        elif kind == "block_update" and event.block_update.block_id == block_id:
            found.append(f"update:{blocks_pb2.ToolStatus.Name(event.block_update.block.tool_use.status)}")
        elif kind == "block_complete" and event.block_complete.block_id == block_id:
            found.append("complete")
    return found


def completed(events: list[events_pb2.SessionEvent]) -> list[blocks_pb2.ConversationBlock]:
    return [event.block_complete.block for event in events if event.HasField("block_complete")]


def test_text_streams_in_deltas_and_each_model_answer_is_a_block_of_its_own() -> None:
    events, _ = run(lines("tools.jsonl"))

    texts = [block for block in completed(events) if block.HasField("assistant_text")]
    assert [block.assistant_text.content for block in texts] == [
        "I'll create the file.",
        "Now let me check it.",
        "Done: hello.txt holds a greeting, and missing.txt does not exist.",
    ]
    assert {block.assistant_text.model for block in texts} == {MODEL}
    assert len({block.id for block in texts}) == 3
    assert of_block(events, texts[0].id) == ["start", "delta:I'll cr", "delta:eate th", "delta:e file.", "complete"]
    assert all(event.session_id == "session-1" and event.conversation_id == "main" for event in events)


def test_a_tool_call_goes_from_pending_to_running_to_its_outcome_then_its_result() -> None:
    events, _ = run(lines("tools.jsonl"))

    assert of_block(events, WRITE) == [
        "start",
        "complete",
        "update:TOOL_STATUS_RUNNING",
        "update:TOOL_STATUS_SUCCESS",
    ]
    [write] = [block for block in completed(events) if block.id == WRITE]
    assert (write.tool_use.tool_name, write.tool_use.tool_use_id) == ("write_file", WRITE)
    assert json_format.MessageToDict(write.tool_use.input) == {"file_path": "hello.txt", "content": "Hello, Gemini!\n"}
    assert of_block(events, f"{WRITE}-result") == ["start", "complete"]

    results = {
        block.tool_result.tool_use_id: block.tool_result for block in completed(events) if block.HasField("tool_result")
    }
    assert "Hello, Gemini!" in [result.output.string_value for result in results.values()], "the shell's output"
    assert of_block(events, READ)[-1] == "update:TOOL_STATUS_ERROR"
    assert results[READ].is_error
    assert results[READ].output.string_value == "File not found: /workspace/missing.txt"


def test_the_run_ends_with_its_usage_and_result() -> None:
    events, stream = run(lines("tools.jsonl"))

    [usage] = [event.metadata_update for event in events if event.HasField("metadata_update")]
    assert usage.model == MODEL
    assert (usage.usage.input_tokens, usage.usage.cache_read_tokens, usage.usage.output_tokens) == (4400, 1000, 100)
    assert events[-1].HasField("metadata_update"), "after every block"
    assert stream.result is not None and stream.result.ok and stream.result.error_message == ""


def test_tool_blocks_are_the_ones_the_transcript_gives() -> None:
    events, _ = run(lines("tools.jsonl"))
    rebuilt = {
        block.id: block
        for block in gemini_transcript.parse((FIXTURES / "gemini-transcript" / "tools.jsonl").read_text())
        if block.HasField("tool_use") or block.HasField("tool_result")
    }

    streamed = {
        block.id: block for block in completed(events) if block.HasField("tool_use") or block.HasField("tool_result")
    }
    assert set(streamed) == set(rebuilt)
    final_status = {
        event.block_update.block_id: event.block_update.block.tool_use.status
        for event in events
        if event.HasField("block_update")
    }
    for block_id, block in rebuilt.items():
        if block.HasField("tool_use"):
            assert streamed[block_id].tool_use.input == block.tool_use.input
            assert final_status[block_id] == block.tool_use.status
        else:
            assert streamed[block_id].tool_result.is_error == block.tool_result.is_error


def test_a_broken_stream_ends_in_an_error_result_after_the_text_it_got() -> None:
    events, stream = run(lines("broken-stream.jsonl"))

    [text] = [block for block in completed(events) if block.HasField("assistant_text")]
    assert text.assistant_text.content == "I was about to say something"
    assert stream.result is not None and not stream.result.ok
    assert stream.result.error_message == "[API Error: Unterminated string in JSON at position 73]"
    assert not any(event.HasField("metadata_update") for event in events), "a run that failed reports no tokens"


def test_an_invalid_response_gives_its_message_to_the_result() -> None:
    # What the CLI writes when the model's answer is empty or cut off: an error line, then a bare error result.
    init, user = lines("broken-stream.jsonl")[:2]
    warning = {"type": "error", "timestamp": "2026-11-22T02:10:17.000Z", "severity": "warning", "message": "Loop!"}
    error = {"type": "error", "timestamp": "2026-11-22T02:10:17.100Z", "severity": "error", "message": "Empty answer"}
    result = {"type": "result", "timestamp": "2026-11-22T02:10:17.200Z", "status": "error", "stats": {}}
    events, stream = run([init, user, warning, error, result])

    systems = [block.system for block in completed(events) if block.HasField("system")]
    assert [(system.subtype, system.message) for system in systems] == [("status", "Loop!"), ("error", "Empty answer")]
    assert stream.result is not None and not stream.result.ok
    assert stream.result.error_message == "Empty answer"


def test_finishing_a_run_cut_short_closes_its_text_and_fails_its_running_tool() -> None:
    fed = lines("tools.jsonl")
    cut = next(position for position, line in enumerate(fed) if line["type"] == "tool_use") + 1
    events, stream = run([*fed[:cut], {"type": "message", "role": "assistant", "content": "Still", "delta": True}])

    assert of_block(events, WRITE)[-1] == "update:TOOL_STATUS_ERROR"
    assert completed(events)[-1].assistant_text.content == "Still"
    assert stream.result is None


def test_a_resumed_run_gives_new_ids_to_its_text() -> None:
    first, _ = run(lines("tools.jsonl"))
    second, _ = run(lines("resumed.jsonl"))
    [answer] = [block for block in completed(second) if block.HasField("assistant_text")]
    assert answer.assistant_text.content == "You're welcome!"
    assert answer.id not in {block.id for block in completed(first)}
