"""The anthropic transcript: what the API is sent, and the blocks rebuilt from it."""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2
from agent_runtime.agents import anthropic_transcript as transcript

TIME = timestamp_pb2.Timestamp(seconds=1_795_000_000)


def test_a_message_with_images_goes_to_the_api_as_parts_and_comes_back_as_sent() -> None:
    sent = blocks_pb2.UserMessageBlock(content="What is this?")
    sent.images.add(data=b"\x89PNG", media_type="image/png")
    sent.images.add(url="https://example.test/cat.jpg")
    content = transcript.user_content(sent)
    assert isinstance(content, list)
    assert [part["type"] for part in content] == ["image", "image", "text"]

    raw = transcript.serialize([transcript.entry("user-1", {"role": "user", "content": content}, TIME)])
    [block] = transcript.blocks(transcript.parse(raw))
    assert block.id == "user-1" and block.timestamp == TIME
    assert block.user_message == sent


def test_tool_calls_take_the_status_of_their_results() -> None:
    entries = [
        transcript.entry("user-1", {"role": "user", "content": "go"}, TIME),
        transcript.entry(
            "msg_1",
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "s"},
                    {"type": "tool_use", "id": "toolu_a", "name": "Bash", "input": {"command": "false"}},
                    {"type": "tool_use", "id": "toolu_b", "name": "Read", "input": {"file_path": "a"}},
                ],
            },
            TIME,
            model="claude-x",
        ),
        transcript.entry(
            "msg_1-results",
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_a", "content": "no", "is_error": True}],
            },
            TIME,
        ),
    ]
    rebuilt = transcript.blocks(transcript.parse(transcript.serialize(entries)))
    assert [b.id for b in rebuilt] == ["user-1", "msg_1-0", "msg_1-1", "msg_1-2", "toolu_a-result"]
    assert rebuilt[2].tool_use.status == blocks_pb2.TOOL_STATUS_ERROR
    assert rebuilt[3].tool_use.status == blocks_pb2.TOOL_STATUS_PENDING, "no result yet"
    assert rebuilt[4].tool_result.output.string_value == "no" and rebuilt[4].tool_result.is_error
    assert dict(rebuilt[2].tool_use.input) == {"command": "false"}
