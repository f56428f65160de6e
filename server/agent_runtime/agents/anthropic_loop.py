"""The `anthropic` architecture: a native agent loop in the runtime on the Messages API's stream.

Each model response streams as blocks (thinking, text, tool_use with its input JSON as deltas); the
tools run in the sandbox and their results go back to the model until it ends its turn. The
transcript is the message list as JSON lines (anthropic_transcript).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anthropic
from google.protobuf import duration_pb2, struct_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, events_pb2
from agent_runtime.agents import anthropic_transcript as transcript
from agent_runtime.agents.emitter import BlockEmitter
from agent_runtime.agents.streamed_block import StreamedBlock, usage_event
from agent_runtime.agents.tools import ToolBox, ToolOutcome
from agent_runtime.permissions.gate import (
    ASK_USER_QUESTION,
    ASK_USER_QUESTION_TOOL,
    CallIds,
    TurnGate,
    answer_text,
    output_text,
)
from agent_runtime.timestamps import now

DEFAULT_MODEL = "claude-sonnet-5-5"  # the newest Sonnet the pinned SDK names; 4-5 reached its end of life
DEFAULT_MAX_TOKENS = 8192
DEFAULT_MAX_ITERATIONS = 50


@dataclass(frozen=True)
class LoopSettings:
    model: str = DEFAULT_MODEL
    system_prompt: str = ""
    max_tokens: int = DEFAULT_MAX_TOKENS
    thinking_budget_tokens: int = 0
    max_iterations: int = DEFAULT_MAX_ITERATIONS
    asks_user: bool = False  # the AskUserQuestion tool is offered (the profile lists it)


class AnthropicAgent:
    def __init__(
        self,
        client: anthropic.AsyncAnthropic,
        settings: LoopSettings,
        tools: ToolBox,
        after_tool: Callable[[], Awaitable[None]],
        gate: TurnGate,
    ) -> None:
        """`after_tool` is awaited after each tool call, before its result is shown (the workspace's
        changes are announced then); `gate` decides whether each call runs, and answers the caller's tools."""
        self._client = client
        self._settings = settings
        self._tools = tools
        self._after_tool = after_tool
        self._gate = gate

    async def run(self, entries: list[transcript.Entry], emitter: BlockEmitter) -> None:
        """Runs the turn whose user message is the last entry, appending what follows."""
        for _ in range(self._settings.max_iterations):
            message = await self._one_response(transcript.api_messages(entries), emitter)
            content = [block.model_dump(exclude_none=True) for block in message.content]
            entries.append(
                transcript.entry(message.id, {"role": "assistant", "content": content}, now(), message.model)
            )
            tool_uses = [block for block in message.content if block.type == "tool_use"]
            if message.stop_reason != "tool_use" or not tool_uses:
                return
            results = []
            for tool_use in tool_uses:
                index = message.content.index(tool_use)
                results.append(await self._use_tool(tool_use, message.id, index, message.model, emitter))
            entries.append(transcript.entry(f"{message.id}-results", {"role": "user", "content": results}, now()))

    def _request(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self._settings.model,
            "max_tokens": self._settings.max_tokens,
            "messages": messages,
            "tools": [
                *self._tools.definitions(),
                *([ASK_USER_QUESTION_TOOL] if self._settings.asks_user else []),
                *self._gate.client_tool_definitions(),
            ],
        }
        if self._settings.system_prompt:
            request["system"] = self._settings.system_prompt
        if self._settings.thinking_budget_tokens:
            request["thinking"] = {"type": "enabled", "budget_tokens": self._settings.thinking_budget_tokens}
        return request

    async def _one_response(self, messages: list[dict[str, Any]], emitter: BlockEmitter) -> Any:
        streamed: dict[int, StreamedBlock] = {}
        message_id, model = "", self._settings.model
        async with self._client.messages.stream(**self._request(messages)) as stream:
            async for event in stream:
                if event.type == "message_start":
                    message_id, model = event.message.id, event.message.model
                elif event.type == "content_block_start":
                    block = event.content_block
                    current = StreamedBlock(
                        f"{message_id}-{event.index}",
                        block.type,
                        getattr(block, "name", ""),
                        getattr(block, "id", ""),
                    )
                    streamed[event.index] = current
                    emitter.start(current.block(model))
                elif event.type == "content_block_delta":
                    current = streamed[event.index]
                    delta = event.delta
                    if delta.type == "text_delta":
                        current.text += delta.text
                        emitter.delta(current.block_id, delta.text, events_pb2.DELTA_KIND_TEXT)
                    elif delta.type == "thinking_delta":
                        current.text += delta.thinking
                        emitter.delta(current.block_id, delta.thinking, events_pb2.DELTA_KIND_THINKING)
                    elif delta.type == "input_json_delta":
                        current.text += delta.partial_json
                        emitter.delta(current.block_id, delta.partial_json, events_pb2.DELTA_KIND_TOOL_INPUT_JSON)
                elif event.type == "content_block_stop":
                    emitter.complete(streamed[event.index].block(model))
                elif event.type == "message_delta":
                    emitter.emit(
                        usage_event(
                            model,
                            event.usage.input_tokens or 0,
                            event.usage.output_tokens or 0,
                            getattr(event.usage, "cache_read_input_tokens", 0) or 0,
                            getattr(event.usage, "cache_creation_input_tokens", 0) or 0,
                        )
                    )
            return await stream.get_final_message()

    async def _use_tool(
        self, tool_use: Any, message_id: str, index: int, model: str, emitter: BlockEmitter
    ) -> dict[str, Any]:
        running = StreamedBlock(f"{message_id}-{index}", "tool_use", tool_use.name, tool_use.id)
        running.text = json.dumps(tool_use.input)

        started = now()  # for the duration: when it runs, not while it waits for an approval

        def show(status: blocks_pb2.ToolStatus.ValueType) -> None:
            nonlocal started
            if status == blocks_pb2.TOOL_STATUS_RUNNING:
                started = now()
            emitter.update(running.block(model, status))

        try:
            output, is_error = await self._call(running.block_id, tool_use, show)
        except asyncio.CancelledError:  # interrupted: the call ends in error, the turn says why
            show(blocks_pb2.TOOL_STATUS_ERROR)
            raise
        finished = now()
        await self._after_tool()
        show(blocks_pb2.TOOL_STATUS_ERROR if is_error else blocks_pb2.TOOL_STATUS_SUCCESS)
        duration = duration_pb2.Duration()
        duration.FromNanoseconds(finished.ToNanoseconds() - started.ToNanoseconds())
        emitter.whole(
            blocks_pb2.ConversationBlock(
                id=transcript.tool_result_id(tool_use.id),
                tool_result=blocks_pb2.ToolResultBlock(
                    tool_use_id=tool_use.id, output=output, is_error=is_error, duration=duration
                ),
            )
        )
        return {"type": "tool_result", "tool_use_id": tool_use.id, "content": output_text(output), "is_error": is_error}

    async def _call(
        self, block_id: str, tool_use: Any, show: Callable[[blocks_pb2.ToolStatus.ValueType], None]
    ) -> tuple[struct_pb2.Value, bool]:
        """The call's output and whether it is an error: a client tool's from the caller, a question's from the
        user, one of the agent's own tools' once the gate lets it run."""
        name, tool_input, call = tool_use.name, tool_use.input, CallIds(block_id, tool_use.id)
        if self._gate.is_client_tool(name):
            return await self._gate.call_client_tool(
                call, name, tool_input, lambda: show(blocks_pb2.TOOL_STATUS_WAITING_FOR_RESULT)
            )
        if name == ASK_USER_QUESTION and self._settings.asks_user:
            resolved = await self._gate.ask_user(
                call, tool_input, lambda: show(blocks_pb2.TOOL_STATUS_WAITING_FOR_APPROVAL)
            )
            answer, unanswered = answer_text(resolved)
            return struct_pb2.Value(string_value=answer), unanswered
        ruling = await self._gate.rule(
            call, name, tool_input, lambda: show(blocks_pb2.TOOL_STATUS_WAITING_FOR_APPROVAL)
        )
        if not ruling.runs:
            outcome = ToolOutcome(ruling.message, is_error=True)
        else:
            show(blocks_pb2.TOOL_STATUS_RUNNING)
            outcome = await self._tools.run(name, ruling.tool_input)
        return struct_pb2.Value(string_value=outcome.output), outcome.is_error
