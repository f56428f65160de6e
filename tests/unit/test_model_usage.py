"""What the model proxy counts from each vendor's responses, streamed or whole."""

from __future__ import annotations

import json

from agent_runtime.modelproxy.usage import Usage
from agent_runtime.modelproxy.vendors import ANTHROPIC, GEMINI, Vendor


def fed(vendor: Vendor, chunks: list[bytes], streamed: bool) -> Usage:
    usage = Usage()
    reader = vendor.usage_reader(usage, streamed)
    for chunk in chunks:
        reader.feed(chunk)
    reader.close()
    return usage


def test_anthropic_streams_count_message_start_and_the_final_delta() -> None:
    start = {"type": "message_start", "message": {"usage": {"input_tokens": 10, "cache_read_input_tokens": 5}}}
    delta = {"type": "message_delta", "usage": {"output_tokens": 7}}
    stream = f"event: message_start\ndata: {json.dumps(start)}\n\nevent: message_delta\ndata: {json.dumps(delta)}\n\n"
    usage = fed(ANTHROPIC, [stream[:30].encode(), stream[30:].encode()], streamed=True)  # split mid-line
    assert (usage.input_tokens, usage.output_tokens) == (15, 7)
    whole = json.dumps({"usage": {"input_tokens": 3, "output_tokens": 4}}).encode()
    assert fed(ANTHROPIC, [whole], streamed=False).total == 7


def test_gemini_counts_the_last_usage_it_repeats() -> None:
    chunks = [
        {"candidates": [], "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 1}},
        {
            "candidates": [],
            "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 6, "thoughtsTokenCount": 2},
        },
    ]
    stream = "".join(f"data: {json.dumps(chunk)}\r\n\r\n" for chunk in chunks).encode()
    usage = fed(GEMINI, [stream], streamed=True)
    assert (usage.input_tokens, usage.output_tokens) == (20, 8), "the last chunk's totals, counted once"
    whole = json.dumps(chunks[1]).encode()
    assert fed(GEMINI, [whole], streamed=False).total == 28
