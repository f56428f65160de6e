"""`agent-runtime sessions ...` and `agent-runtime profiles ...`: the gRPC API from a terminal.

The address and key come from the server's own variables (AGENT_RUNTIME_GRPC_ADDRESS, AGENT_RUNTIME_API_KEY),
else the key `make run` generated in ./data. `send` shows the agent's answer as it streams; `watch` follows a
session and resumes where it was if the connection drops. `--json` prints one JSON object per line instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from google.protobuf import json_format, message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2 as api
from agent_runtime._gen.agentruntime.v1 import agent_runtime_pb2_grpc, events_pb2, permissions_pb2, profile_pb2
from agent_runtime.api_key import KEY_FILE
from agent_runtime.terminal_spinner import Spinner

if TYPE_CHECKING:
    from agent_runtime._gen.agentruntime.v1.agent_runtime_pb2_grpc import AgentRuntimeAsyncStub as Stub

RECONNECT_SECONDS = 1.0
Metadata = tuple[tuple[str, str], ...]


def add_client_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sessions = commands.add_parser("sessions", help="sessions of a running runtime").add_subparsers(
        dest="client_command", required=True
    )
    create = _command(sessions, "create", "create a session")
    create.add_argument("--profile", default="default", help="the agent profile")
    create.add_argument("--architecture", default="claude-agent-sdk", help="claude-agent-sdk, gemini-cli or anthropic")
    create.add_argument("--name", default="")
    _command(sessions, "list", "list sessions, newest first")
    _session_command(sessions, "get", "a session with its blocks and files")
    send = _session_command(sessions, "send", "send a message and show the answer as it streams")
    message_from = send.add_mutually_exclusive_group(required=True)
    message_from.add_argument("text", nargs="?", help="the message; - reads it from standard input")
    message_from.add_argument("--file", type=Path, help="read the message from this file")
    watch = _session_command(sessions, "watch", "follow a session's events (resumes after a dropped connection)")
    watch.add_argument("--after", type=int, default=0, help="start after this sequence")
    _session_command(sessions, "interrupt", "interrupt the running turn")
    approve = _session_command(sessions, "approve", "answer an approval the running turn waits for (allow by default)")
    approve.add_argument("approval_id")
    approve.add_argument("--deny", action="store_true", help="refuse the call")
    approve.add_argument("--message", default="", help="told to the agent, with a denial above all")
    approve.add_argument("--remember", action="store_true", help="allow the same call for the rest of the session")
    delete = _session_command(sessions, "delete", "unload a session; with --purge also delete it from storage")
    delete.add_argument("--purge", action="store_true")
    profiles = commands.add_parser("profiles", help="agent profiles").add_subparsers(
        dest="client_command", required=True
    )
    _command(profiles, "list", "list agent profiles")
    _command(profiles, "get", "one agent profile").add_argument("profile_id")


def _command(
    group: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str
) -> argparse.ArgumentParser:
    parser = group.add_parser(name, help=text)
    parser.add_argument(
        "--address", default=os.environ.get("AGENT_RUNTIME_GRPC_ADDRESS", "127.0.0.1:50051"), help="the runtime"
    )
    parser.add_argument("--data-dir", type=Path, default=Path("./data"), help="where `make run` keeps its key")
    parser.add_argument("--json", action="store_true", help="machine-readable output, a JSON object a line")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    return parser


def _session_command(
    group: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str
) -> argparse.ArgumentParser:
    parser = _command(group, name, text)
    parser.add_argument("session_id")
    return parser


def _key(data_dir: Path) -> str:
    key = os.environ.get("AGENT_RUNTIME_API_KEY")
    if key:
        return key
    stored = data_dir / KEY_FILE
    if stored.exists():
        return stored.read_text().strip()
    raise SystemExit(f"agent-runtime: no API key: set AGENT_RUNTIME_API_KEY (or run where {stored} is)")


def _print(item: message.Message, as_json: bool) -> None:
    shown = json_format.MessageToDict(item)
    print(json.dumps(shown) if as_json else json.dumps(shown, indent=2), flush=True)


def _reasons(error: grpc.aio.AioRpcError) -> list[str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    reasons = []
    for detail in status.details if status else []:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            reasons.append(info.reason)
    return reasons


def _describe(error: grpc.aio.AioRpcError, address: str) -> str:
    reasons = _reasons(error)
    if error.code() == grpc.StatusCode.UNAVAILABLE and not reasons:  # gRPC's own: nothing answered
        return f"no runtime at {address} (is `make run` running?)"
    return f"{error.details()} ({error.code().name}{', ' + ', '.join(reasons) if reasons else ''})"


async def run_client(args: argparse.Namespace) -> int:
    metadata = (("authorization", f"Bearer {_key(args.data_dir)}"),)
    async with grpc.aio.insecure_channel(args.address) as channel:
        stub = agent_runtime_pb2_grpc.AgentRuntimeStub(channel)
        try:
            await _run(stub, args, metadata)
        except grpc.aio.AioRpcError as error:
            print(f"agent-runtime: {_describe(error, args.address)}", file=sys.stderr)
            return 1
    return 0


async def _run(stub: Stub, args: argparse.Namespace, metadata: Metadata) -> None:
    command = (args.command, args.client_command)
    if command == ("sessions", "send"):
        await _send(stub, args, metadata)
    elif command == ("sessions", "watch"):
        await _watch(stub, args, metadata)
    else:
        _print(await _unary(stub, args, command)(metadata), args.json)


def _unary(
    stub: Stub, args: argparse.Namespace, command: tuple[str, str]
) -> Callable[[Metadata], Awaitable[message.Message]]:
    """The call each of the other commands makes."""
    session_id = getattr(args, "session_id", "")
    calls: dict[tuple[str, str], Callable[[Metadata], Awaitable[message.Message]]] = {
        ("profiles", "list"): lambda m: stub.ListAgentProfiles(profile_pb2.ListAgentProfilesRequest(), metadata=m),
        ("profiles", "get"): lambda m: stub.GetAgentProfile(
            api.GetAgentProfileRequest(agent_profile_id=getattr(args, "profile_id", "")), metadata=m
        ),
        ("sessions", "create"): lambda m: stub.CreateSession(
            api.CreateSessionRequest(agent_profile_ref=args.profile, architecture=args.architecture, name=args.name),
            metadata=m,
        ),
        ("sessions", "list"): lambda m: stub.ListSessions(api.ListSessionsRequest(page_size=100), metadata=m),
        ("sessions", "get"): lambda m: stub.GetSession(api.GetSessionRequest(session_id=session_id), metadata=m),
        ("sessions", "interrupt"): lambda m: stub.InterruptSession(
            api.InterruptSessionRequest(session_id=session_id), metadata=m
        ),
        ("sessions", "approve"): lambda m: stub.RespondToApproval(_approval_answer(args), metadata=m),
        ("sessions", "delete"): lambda m: stub.DeleteSession(
            api.DeleteSessionRequest(session_id=session_id, purge=getattr(args, "purge", False)), metadata=m
        ),
    }
    return calls[command]


def _approval_answer(args: argparse.Namespace) -> api.RespondToApprovalRequest:
    deny = args.deny
    return api.RespondToApprovalRequest(
        session_id=args.session_id,
        approval_id=args.approval_id,
        decision=events_pb2.APPROVAL_DECISION_DENY if deny else events_pb2.APPROVAL_DECISION_ALLOW,
        message=args.message,
        remember=args.remember and not deny,
    )


async def _responses(
    stub: Stub, session_id: str, after: int, metadata: Metadata
) -> AsyncIterator[api.StreamSessionEventsResponse]:
    """A session's events after `after` and the heartbeats of its idle times, following; a dropped
    connection is resumed from the last event seen (a runtime that never answered is an error)."""
    connected = False
    while True:
        request = api.StreamSessionEventsRequest(session_id=session_id, after_sequence=after, follow=True)
        try:
            async for response in stub.StreamSessionEvents(request, metadata=metadata):
                connected = True
                if response.HasField("event"):
                    after = response.event.sequence
                yield response
        except grpc.aio.AioRpcError as error:
            if not connected or error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
                raise
            print(f"agent-runtime: {error.code().name}; resuming after {after}", file=sys.stderr)
            await asyncio.sleep(RECONNECT_SECONDS)


async def _events(
    stub: Stub, session_id: str, after: int, metadata: Metadata
) -> AsyncIterator[events_pb2.SessionEvent]:
    async for response in _responses(stub, session_id, after, metadata):
        if response.HasField("event"):
            yield response.event


async def _watch(stub: Stub, args: argparse.Namespace, metadata: Metadata) -> None:
    """Shows each event; says so on stderr when the session goes idle (a heartbeat after events)."""
    if not args.json:
        print(f"… following {args.session_id} (Ctrl-C stops)", file=sys.stderr, flush=True)
    said_waiting = False
    async for response in _responses(stub, args.session_id, args.after, metadata):
        if response.HasField("event"):
            _show(response.event, args.json)
            said_waiting = False
        elif not said_waiting and not args.json:
            print("… waiting for the next event", file=sys.stderr, flush=True)
            said_waiting = True


def _message(args: argparse.Namespace) -> str:
    """The message: the argument, standard input for -, or the --file (over the argument-size limit)."""
    if args.file is not None:
        return str(args.file.read_text())
    if args.text == "-":
        return sys.stdin.read()
    return str(args.text)


async def _send(stub: Stub, args: argparse.Namespace, metadata: Metadata) -> None:
    """Sends the message and shows its turn: text as it arrives, tool calls and results as short lines, the
    sandbox's progress on stderr (beside a spinner on a terminal). Every event is stored before it is shown,
    so following the session's log from its start finds the turn, however soon it began."""
    sent = await stub.SendMessage(
        api.SendMessageRequest(session_id=args.session_id, content=_message(args)), metadata=metadata
    )
    if sent.queued and not args.json:
        print(f"… queued at position {sent.queue_position}: it runs when the turns before it end", file=sys.stderr)
    ours = False
    spinner = Spinner(sys.stderr) if sys.stderr.isatty() and not args.json else None
    async for event in _events(stub, args.session_id, 0, metadata):
        if event.HasField("turn_started"):
            ours = event.turn_started.turn_id == sent.turn_id
        if not ours:
            continue
        status = None if args.json else _status_line(event)
        if spinner and status:
            spinner.show(status)
            continue
        if spinner:
            spinner.stop()
        if _is_turn_error(event, sent.turn_id) and not args.json:
            continue  # said once, when the turn ends
        _show(event, args.json)
        if event.HasField("approval_requested") and not args.json:
            await _ask_the_terminal(stub, args.session_id, event.approval_requested, metadata)
        if event.HasField("turn_completed"):
            ended = event.turn_completed
            if ended.outcome != events_pb2.TURN_OUTCOME_COMPLETED:
                raise SystemExit(f"agent-runtime: the turn {TURN_ENDINGS[ended.outcome]}: {ended.message}")
            return


CHOICES = "[a]llow / [d]eny / allow [A]lways? "


async def _ask_the_terminal(
    stub: Stub, session_id: str, asked: events_pb2.ApprovalRequested, metadata: Metadata
) -> None:
    """On a terminal, asks the user and sends the answer; elsewhere says how to answer."""
    if not sys.stdin.isatty():
        command = f"agent-runtime sessions approve {session_id} {asked.approval_id}"
        print(f"… the turn waits for an answer: {command} [--deny]", file=sys.stderr, flush=True)
        return
    request = api.RespondToApprovalRequest(session_id=session_id, approval_id=asked.approval_id)
    try:
        if asked.questions:
            request.answers.update(await _answers_from_terminal(asked.questions))
            request.decision = events_pb2.APPROVAL_DECISION_ALLOW
        else:
            said = await _choice_from_terminal(asked)
            request.decision = events_pb2.APPROVAL_DECISION_DENY if said == "d" else events_pb2.APPROVAL_DECISION_ALLOW
            request.remember = said == "A"
    except EOFError:  # the terminal closed: the turn keeps waiting for an answer from elsewhere
        return
    await stub.RespondToApproval(request, metadata=metadata)


async def _choice_from_terminal(asked: events_pb2.ApprovalRequested) -> str:
    """The call on a line of its own (its input may be long), then a short prompt."""
    rule = f" (rule {asked.rule})" if asked.rule else ""
    shown = json.dumps(json_format.MessageToDict(asked.input), sort_keys=True)
    print(f"? {asked.tool_name} {shown}{rule}", flush=True)
    said = ""
    while said not in ("a", "d", "A"):
        said = (await asyncio.to_thread(input, CHOICES)).strip()
    return said


async def _answers_from_terminal(questions: Sequence[permissions_pb2.Question]) -> dict[str, str]:
    """Each question's answer: the label of the option whose number was typed, or what was typed."""
    answers = {}
    for question in questions:
        labels = [option.label for option in question.options]
        shown = "".join(f"\n  {n}. {label}" for n, label in enumerate(labels, start=1))
        said = (await asyncio.to_thread(input, f"{question.question}{shown}\n> ")).strip()
        chosen = int(said) if said.isdigit() and 0 < int(said) <= len(labels) else 0
        answers[question.question] = labels[chosen - 1] if chosen else said
    return answers


TURN_ENDINGS = {
    events_pb2.TURN_OUTCOME_FAILED: "failed",
    events_pb2.TURN_OUTCOME_INTERRUPTED: "was interrupted",
    events_pb2.TURN_OUTCOME_CANCELLED: "was cancelled",
}


def _is_turn_error(event: events_pb2.SessionEvent, turn_id: str) -> bool:
    """The error block a turn that did not complete ends with; its turn_completed says the same."""
    return event.HasField("block_complete") and event.block_complete.block.id == f"{turn_id}-error"


def _status_line(event: events_pb2.SessionEvent) -> str | None:
    """What a status event or a system block (a model API retry, say) says, for a line on stderr."""
    if event.HasField("status"):
        return event.status.message
    if event.HasField("block_complete") and event.block_complete.block.HasField("system"):
        return event.block_complete.block.system.message
    return None


def _show(event: events_pb2.SessionEvent, as_json: bool) -> None:
    if as_json:
        print(json.dumps(json_format.MessageToDict(event)), flush=True)
        return
    kind = event.WhichOneof("payload")
    status = _status_line(event)
    if status is not None:
        print(f"… {status}", file=sys.stderr, flush=True)
    elif kind == "block_delta" and event.block_delta.kind == events_pb2.DELTA_KIND_TEXT:
        print(event.block_delta.delta, end="", flush=True)
    elif kind == "block_complete":
        _show_block(event)
    elif kind == "message_accepted" and event.message_accepted.queued:
        accepted = event.message_accepted
        print(f"… message queued at position {accepted.queue_position}: {accepted.turn_id}", file=sys.stderr)
    elif kind in ("file_created", "file_modified"):
        print(f"  {kind.removeprefix('file_')}: {getattr(event, kind).file.path}", flush=True)
    elif kind == "file_deleted":
        print(f"  deleted: {event.file_deleted.path}", flush=True)


def _show_block(event: events_pb2.SessionEvent) -> None:
    block = event.block_complete.block
    kind = block.WhichOneof("kind")
    if kind == "assistant_text":
        print(flush=True)  # the text came as deltas; end its line
    elif kind == "tool_use":
        shown = json.dumps(json_format.MessageToDict(block.tool_use.input))[:120]
        print(f"  ⚙ {block.tool_use.tool_name} {shown}", flush=True)
    elif kind == "tool_result":
        output = block.tool_result.output.string_value.strip().replace("\n", " ⏎ ")[:120]
        print(f"  {'✗' if block.tool_result.is_error else '→'} {output}", flush=True)
    elif kind == "error":
        print(f"  ! {block.error.message}", flush=True)
    elif kind == "subagent":
        print(f"  ↳ {block.subagent.name}: {block.subagent.output[:120]}", flush=True)
