"""A loaded session: its turns, one at a time, its sandbox, created on the first message, and the sync
of its workspace.

A message is accepted by storing a message_accepted event (sessions/inbox.py) before SendMessage
answers; a session loaded after a crash starts with the accepted messages that never ran.

A turn: turn_started, the user_message block, the agent's blocks as they stream (agents/, one per
architecture), the transcripts that changed saved, every event stored, then turn_completed with its
outcome. A turn that fails or is interrupted closes its open blocks, says why in an error block, and
stores what the agent kept of it: nothing for the native loop, whose next message starts from the last
complete turn; their own transcripts for the CLIs, which resume from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import anthropic
import grpc
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import (
    agent_runtime_pb2,
    blocks_pb2,
    events_pb2,
    persistence_pb2,
    profile_pb2,
    session_pb2,
)
from agent_runtime.agents.architectures import agent_for
from agent_runtime.agents.base import Transcripts, TurnContext
from agent_runtime.agents.emitter import BlockEmitter, add_usage
from agent_runtime.errors import ApiError
from agent_runtime.events.log import EventLog, EventWithdrawn
from agent_runtime.modelproxy.proxy import ModelProxy
from agent_runtime.permissions import rules
from agent_runtime.permissions.awaited import AwaitedInput
from agent_runtime.permissions.client_tools import check as check_client_tools
from agent_runtime.permissions.client_tools import client_tools
from agent_runtime.permissions.gate import TurnGate
from agent_runtime.sandboxes.base import Sandbox, SandboxProvider
from agent_runtime.sandboxes.specs import spec_for
from agent_runtime.sessions.inbox import Inbox, find_request
from agent_runtime.sessions.model_access import ModelAccess
from agent_runtime.sessions.model_channel import ModelChannel
from agent_runtime.sessions.stored_workspace import stored_file, stored_file_list
from agent_runtime.sessions.validation import NATIVE_TOOLS
from agent_runtime.sessions.workspace_sync import DEFAULT_WORKSPACE_QUOTA_BYTES, WorkspaceSync
from agent_runtime.storage.client import StorageClient
from agent_runtime.storage.retrying import until_stored
from agent_runtime.timestamps import now

log = logging.getLogger(__name__)

# How long SendMessage waits for storage to take an accepted message before it answers UNAVAILABLE.
ACCEPT_SECONDS = 5.0
CANCELLED_MESSAGE = "the session was unloaded before this message ran"
DEFAULT_INPUT_TIMEOUT_SECONDS = 600.0
UNANSWERED_MESSAGE = "storage took this message too late: SendMessage had answered UNAVAILABLE"


# A turn is the accepted message it runs: its turn_id and user_message block.
Turn = events_pb2.MessageAccepted


@dataclass(frozen=True)
class SessionServices:
    storage: StorageClient
    events: EventLog
    sandboxes: SandboxProvider
    models: ModelAccess
    # How sandboxes reach the model (None without a key): a per-session token, never the real key.
    model_proxy: ModelProxy | None = None
    # The proxy's shared listener, for sandboxes that cannot be offered a port (Modal); empty: none.
    model_proxy_url: str = ""
    # What a session's workspace may keep in storage unless its profile says otherwise.
    workspace_quota_bytes: int = DEFAULT_WORKSPACE_QUOTA_BYTES
    # How long a turn waits for an approval or a client tool's result before it goes on without (0: as long
    # as the turn).
    input_timeout: float = DEFAULT_INPUT_TIMEOUT_SECONDS


class LiveSession:
    def __init__(
        self,
        services: SessionServices,
        record: persistence_pb2.SessionRecord,
        profile: profile_pb2.AgentProfile,
        stored: Transcripts,
        inbox: Inbox,
        on_status: Callable[[session_pb2.RuntimeState], None],
        lease: tuple[str, int] = ("", 0),
    ) -> None:
        """`lease`: in a fleet, the replica that loaded the session and the generation of its lease on it."""
        self._services = services
        self._lease = lease
        self.record = record
        self._profile = profile
        self._on_status = on_status
        unstored = blocks_pb2.Usage()  # what a dead runtime's last turn spent, read off the log
        unstored.CopyFrom(inbox.running_spent)
        self._emitter = BlockEmitter(services.events, record.session_id, spent=unstored)
        self._agent = agent_for(record.architecture, profile, record.session_id, stored, services.models)
        self._stored_transcripts = stored.by_id()  # what storage holds, to save only what changed
        self._inbox = inbox
        self._queue: list[Turn] = list(inbox.waiting)
        self._accepting = asyncio.Lock()  # one SendMessage at a time decides and stores
        self._being_stored = 0  # accepted messages not yet stored, counted as waiting all the same
        self._wake = asyncio.Event()
        self._wake.set()
        self._no_turns = asyncio.Event()  # set while no turn runs or waits
        self._running: Turn | None = None
        self._running_task: asyncio.Task[None] | None = None
        self._sandbox: Sandbox | None = None
        self._sync: WorkspaceSync | None = None
        self._model_channel: ModelChannel | None = None
        self._sandbox_lock = asyncio.Lock()
        self._sandbox_state = session_pb2.SandboxState()
        self._background: set[asyncio.Task[None]] = set()
        self._last_activity = asyncio.get_running_loop().time()
        self._turn_started_at = self._last_activity
        self._closed = False
        self._awaited = AwaitedInput(
            self._emitter,
            lambda: services.events.flush(record.session_id),
            services.input_timeout,
            lambda: self._on_status(self.runtime_state()),
        )
        self._remembered: set[str] = set()  # calls a caller allowed for the rest of the session
        self._worker = asyncio.create_task(self._work())

    @property
    def session_id(self) -> str:
        return self.record.session_id

    @property
    def storage(self) -> StorageClient:
        """Storage as this session writes it: fenced with its lease, in a fleet."""
        return self._services.storage

    def runtime_state(self) -> session_pb2.RuntimeState:
        state = session_pb2.RuntimeState(
            loaded=not self._closed,
            turn_running=self._running is not None,
            queued_messages=len(self._queue),
            owner_replica_id=self._lease[0],
            lease_generation=self._lease[1],
            awaiting_approvals=self._awaited.approvals,
            awaiting_tool_results=self._awaited.tool_calls,
        )
        if self._sandbox_state.status:
            state.sandbox.CopyFrom(self._sandbox_state)
        return state

    async def send(self, request: agent_runtime_pb2.SendMessageRequest) -> agent_runtime_pb2.SendMessageResponse:
        """Stores the message, then answers; an error means nothing was stored."""
        self._require_applicable_policy()
        async with self._accepting:
            if self._closed:
                raise ApiError(grpc.StatusCode.UNAVAILABLE, "SESSION_UNLOADED", "the session was unloaded; send again")
            if request.request_id and await find_request(
                self._services.events, self.session_id, self._inbox, request.request_id
            ):
                return self._reply(self._inbox.by_request[request.request_id])
            accepted = self._accepted(request)
            event = events_pb2.SessionEvent(
                session_id=self.session_id, conversation_id="main", message_accepted=accepted
            )
            self._being_stored += 1
            try:
                await self._services.events.record_within(event, ACCEPT_SECONDS)
            except EventWithdrawn as withdrawn:
                self._keep(self._cancel_if_stored(accepted, withdrawn.stored_anyway))
                raise
            finally:
                self._being_stored -= 1
            self._inbox.remember(accepted)
            if accepted.queued and request.if_busy == agent_runtime_pb2.BUSY_POLICY_INTERRUPT:
                self._queue.insert(0, accepted)
                self.interrupt()
            else:
                self._queue.append(accepted)
            self._no_turns.clear()
            self._wake.set()
            return self._reply(accepted)

    def _require_applicable_policy(self) -> None:
        """FAILED_PRECONDITION when the profile's permissions or client tools are not well formed (a storage
        server may hold a profile the runtime never checked): no call a rule says to ask about may run unasked."""
        problems = [
            *rules.check("permissions", self._profile.permissions),
            *check_client_tools("client_tools", self._profile.client_tools, NATIVE_TOOLS),
        ]
        if problems:
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "PROFILE_INVALID",
                f"profile {self._profile.id!r}: " + "; ".join(f"{p.field}: {p.description}" for p in problems),
            )

    async def _cancel_if_stored(self, turn: Turn, stored_anyway: asyncio.Future[bool]) -> None:
        """A message SendMessage refused as UNAVAILABLE that storage had taken after all (its answer was
        lost) never runs, as the caller was told; the log says so. A retry runs as a message of its own."""
        if await stored_anyway:
            self._emit_completed(turn, events_pb2.TurnOutcome.TURN_OUTCOME_CANCELLED, UNANSWERED_MESSAGE)

    def _accepted(self, request: agent_runtime_pb2.SendMessageRequest) -> events_pb2.MessageAccepted:
        """The message as it will be stored, or SESSION_BUSY for a busy session that refuses it."""
        busy = self._running is not None or bool(self._queue)
        if busy and request.if_busy == agent_runtime_pb2.BUSY_POLICY_REJECT:
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "SESSION_BUSY",
                "a turn is running; send again when it ends, or ask to queue or interrupt",
                metadata={"session_id": self.session_id},
            )
        user_message = blocks_pb2.ConversationBlock(
            id=f"user-{uuid.uuid4()}",
            timestamp=now(),
            user_message=blocks_pb2.UserMessageBlock(content=request.content, images=request.images),
        )
        interrupting = request.if_busy == agent_runtime_pb2.BUSY_POLICY_INTERRUPT
        return events_pb2.MessageAccepted(
            turn_id=f"turn-{uuid.uuid4()}",
            user_message=user_message,
            queued=busy,
            queue_position=(1 if interrupting else len(self._queue) + 1) if busy else 0,
            request_id=request.request_id,
        )

    def _reply(self, accepted: events_pb2.MessageAccepted) -> agent_runtime_pb2.SendMessageResponse:
        return agent_runtime_pb2.SendMessageResponse(
            session_id=self.session_id,
            turn_id=accepted.turn_id,
            user_message=accepted.user_message,
            queued=accepted.queued,
            queue_position=accepted.queue_position,
        )

    def awaits(self, request_id: str) -> bool:
        """Whether the running turn waits for this approval or client tool call, or did since the load."""
        return self._awaited.knows(request_id)

    def request_for(self, tool_use_id: str) -> str:
        """The approval or client tool call made for the call with this tool_use_id since the load; empty if none."""
        return self._awaited.request_for(tool_use_id)

    async def respond(self, answer: events_pb2.ApprovalResolved) -> events_pb2.ApprovalResolved:
        """A caller's answer to an approval the running turn waits for."""
        return await self._awaited.respond(answer)

    async def submit(self, result: events_pb2.ClientToolResult) -> events_pb2.ClientToolResult:
        """A caller's result of a client tool call the running turn waits for."""
        return await self._awaited.submit(result)

    def interrupt(self) -> agent_runtime_pb2.InterruptSessionResponse:
        if self._running is None or self._running_task is None:
            return agent_runtime_pb2.InterruptSessionResponse(interrupted=False)
        self._running_task.cancel()
        return agent_runtime_pb2.InterruptSessionResponse(interrupted=True, turn_id=self._running.turn_id)

    async def _work(self) -> None:
        if self._inbox.running_spent.ByteSize():  # a dead runtime's spending, stored now, not at the next turn
            await self._store_activity()
        while not self._closed:
            if not self._queue:
                self._no_turns.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            turn = self._queue.pop(0)
            self._running = turn
            self._on_status(self.runtime_state())
            self._running_task = asyncio.create_task(self._run(turn))
            try:
                await self._running_task
            except asyncio.CancelledError:
                worker = asyncio.current_task()
                if worker is not None and worker.cancelling():
                    raise  # this worker itself is being stopped
                await self._finish(turn, events_pb2.TurnOutcome.TURN_OUTCOME_INTERRUPTED, "interrupted")
            except Exception:  # storage refused the transcript, say: the turn ends, the session goes on
                log.exception("turn %s of %s could not be finished", turn.turn_id, self.session_id)
                await self._finish(turn, events_pb2.TurnOutcome.TURN_OUTCOME_FAILED, "the turn could not be saved")
        self._no_turns.set()

    async def _run(self, turn: Turn) -> None:
        log.info("session %s: turn %s started", self.session_id, turn.turn_id)
        self._turn_started_at = asyncio.get_running_loop().time()
        self._emitter.emit(
            events_pb2.SessionEvent(
                turn_started=events_pb2.TurnStarted(turn_id=turn.turn_id, user_message_block_id=turn.user_message.id)
            )
        )
        self._emitter.whole(turn.user_message)
        # Stored before the agent does anything: a runtime that dies from here on leaves the turn
        # INTERRUPTED, and never runs the message (and its commands) a second time.
        await self._services.events.flush(self.session_id)
        await self._store_activity()
        options = self.record.session_options
        gate = TurnGate(
            rules.effective(self._profile, options),
            client_tools(self._profile, options),
            self._awaited,
            self._remembered,
            turn.turn_id,
        )
        context = TurnContext(self.sandbox, options, self._sandbox_environment, self._emitter, self._settle_files, gate)
        try:
            await self.sandbox()  # the first message creates it, as the seed did; later ones find it ready
            await self._unless_key_refused(self._agent.run(turn.user_message, context))
        except asyncio.CancelledError:
            await asyncio.shield(self._save_what_remains())
            raise
        except Exception as error:  # the model API, its stream, the sandbox: the turn fails, the session lives
            if not isinstance(error, anthropic.APIError | ApiError):
                log.exception("turn %s of %s failed", turn.turn_id, self.session_id)
            await self._save_what_remains()
            await self._finish(turn, events_pb2.TurnOutcome.TURN_OUTCOME_FAILED, _describe(error))
            return
        await self._save_transcripts()
        await self._finish(turn, events_pb2.TurnOutcome.TURN_OUTCOME_COMPLETED, "")

    async def _unless_key_refused(self, work: Coroutine[Any, Any, None]) -> None:
        """Runs the agent; fails the turn at once if a model API refuses the runtime's key meanwhile, rather
        than letting a CLI retry what cannot succeed (Claude Code retries a 401 ten times over minutes)."""
        proxy = self._services.model_proxy
        if proxy is None:
            await work
            return
        refusal = proxy.key_refusal(self.session_id)
        running = asyncio.ensure_future(work)
        waiting: set[asyncio.Future[Any]] = {running, refusal}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:  # the refusal came first, or this turn is being stopped: the agent stops too
            if not running.done():
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
        if running.cancelled() and refusal.done():
            raise ApiError(grpc.StatusCode.FAILED_PRECONDITION, "MODEL_KEY_REFUSED", refusal.result())
        running.result()

    async def _settle_files(self) -> None:
        """Saves and announces the workspace's changes so far; a sandbox that died is noticed by the next turn."""
        if self._sandbox is not None and self._sync is not None:
            with contextlib.suppress(ApiError):
                await self._sync.settle(self._sandbox)

    async def _finish(self, turn: Turn, outcome: events_pb2.TurnOutcome.ValueType, message: str) -> None:
        self._emitter.close_open_blocks()
        await self._settle_files()
        if outcome != events_pb2.TurnOutcome.TURN_OUTCOME_COMPLETED:
            self._emitter.whole(
                blocks_pb2.ConversationBlock(
                    id=f"{turn.turn_id}-error",
                    error=blocks_pb2.ErrorBlock(message=message, code=events_pb2.TurnOutcome.Name(outcome)),
                )
            )
        self._emit_completed(turn, outcome, message)
        # Ended: an interrupt or unload from now on finds no turn, rather than ending this one twice.
        self._running, self._running_task = None, None
        self._last_activity = asyncio.get_running_loop().time()
        self._on_status(self.runtime_state())
        await self._services.events.flush(self.session_id)
        took = asyncio.get_running_loop().time() - self._turn_started_at
        ended = events_pb2.TurnOutcome.Name(outcome).removeprefix("TURN_OUTCOME_")
        log.info("session %s: turn %s ended %s after %.1fs%s", self.session_id, turn.turn_id, ended, took,
                 f": {message}" if message else "")  # fmt: skip
        await self._store_activity()

    async def _store_activity(self) -> None:
        """last_activity, now, and the tokens spent so far, in storage: when a turn starts and when it ends,
        not per event. A storage that cannot take them costs the session nothing but the ordering of
        ListSessions and, until the next turn stores them, its token counts."""
        storage = self._services.storage
        add_usage(self.record.usage, self._emitter.take_spent())  # kept here until storage takes it
        change = persistence_pb2.SessionRecord(last_activity=now(), usage=self.record.usage)
        request = persistence_pb2.UpdateSessionRecordRequest(
            session_id=self.session_id,
            session=change,
            update_mask=field_mask_pb2.FieldMask(paths=["last_activity", "usage"]),
        )
        try:
            await storage.call(storage.stub.UpdateSessionRecord, request)
        except ApiError as error:
            log.warning("the last activity of %s was not stored: %s", self.session_id, error)
            return
        self.record.last_activity.CopyFrom(change.last_activity)

    def _emit_completed(self, turn: Turn, outcome: events_pb2.TurnOutcome.ValueType, message: str) -> None:
        waiting = len(self._queue) + self._being_stored
        completed = events_pb2.TurnCompleted(
            turn_id=turn.turn_id, outcome=outcome, message=message, messages_waiting=waiting
        )
        self._emitter.emit(events_pb2.SessionEvent(turn_completed=completed))

    async def _save_transcripts(self) -> None:
        """Stores each transcript that changed since it was last stored."""
        storage = self._services.storage
        for subagent_id, raw in (await self._agent.transcripts()).by_id().items():
            if self._stored_transcripts.get(subagent_id) == raw:
                continue
            request = persistence_pb2.SaveTranscriptRequest(
                session_id=self.session_id, raw_transcript=raw, subagent_id=subagent_id
            )
            await until_stored("a transcript", functools.partial(storage.call, storage.stub.SaveTranscript, request))
            self._stored_transcripts[subagent_id] = raw

    async def _save_what_remains(self) -> None:
        """After a turn that did not complete: what the agent kept of it is stored if it can be; what was
        stored before stays either way."""
        try:
            await self._save_transcripts()
        except Exception:
            log.warning("the transcripts of %s after an unfinished turn were not saved", self.session_id, exc_info=True)

    def _sandbox_environment(self) -> dict[str, str]:
        """What commands in the sandbox get on top of the profile's variables: the model channel."""
        return self._model_channel.environment if self._model_channel else {}

    def _status(self, status: session_pb2.SandboxStatus.ValueType, message: str) -> None:
        self._sandbox_state.status = status
        self._sandbox_state.status_message = message
        state = self.runtime_state()
        self._emitter.emit(events_pb2.SessionEvent(status=events_pb2.StatusChange(runtime=state, message=message)))
        self._on_status(state)

    async def sandbox(self) -> Sandbox:
        """The session's sandbox, created on first use with its workspace restored from storage."""
        async with self._sandbox_lock:
            if self._sandbox is not None and (await self._sandbox.poll()).running:
                return self._sandbox
            if self._sandbox is not None:
                self._sandbox_state.restart_count += 1
            self._status(session_pb2.SANDBOX_STATUS_STARTING, "Preparing...")
            found = await self._found_sandbox() if self._sandbox is None else None
            if found is None:
                self._status(session_pb2.SANDBOX_STATUS_STARTING, "Creating sandbox...")
            sandbox = found or await self._services.sandboxes.create(
                spec_for(self._profile, self.session_id, self._services.model_proxy_url)
            )
            self._sandbox_state.sandbox_id = sandbox.sandbox_id
            storage = self._services.storage
            stored = [file async for file in stored_file_list(storage, self.session_id)]
            if found is None:  # a sandbox found again has its workspace; what storage lacks of it is saved next
                self._status(session_pb2.SANDBOX_STATUS_STARTING, "Setting up session files...")
                for listed in stored:  # one file's content in memory at a time
                    file = await stored_file(storage, self.session_id, listed.path)
                    await sandbox.write_file(file.path, file.content)
            await self._agent.prepare(sandbox)
            self._status(session_pb2.SANDBOX_STATUS_STARTING, "Starting file watchers...")
            quota = self._profile.limits.workspace_bytes or self._services.workspace_quota_bytes
            self._sync = WorkspaceSync(self.session_id, storage, self._emitter, stored, quota)
            self._keep(self._sync.follow(sandbox))
            if self._model_channel is not None:
                await self._model_channel.close()
            self._model_channel = await ModelChannel.open(
                self._services.model_proxy, sandbox, self.session_id, self._services.model_proxy_url
            )
            self._sandbox = sandbox
            restored = len(stored)
            log.info("session %s: sandbox %s ready, %d files restored", self.session_id, sandbox.sandbox_id, restored)
            self._status(session_pb2.SANDBOX_STATUS_READY, "Ready")
            return sandbox

    async def _found_sandbox(self) -> Sandbox | None:
        """The session's sandbox from before this load, where the provider's sandboxes outlive a runtime: a
        replica that died, or a runtime restarted, left it running."""
        provider = self._services.sandboxes
        if not provider.outlives_runtime:
            return None
        found = await provider.find(self.session_id)
        if found is not None:
            log.info("session %s: sandbox %s found again", self.session_id, found.sandbox_id)
        return found

    def _keep(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def sync(self) -> agent_runtime_pb2.SyncSessionResponse:
        """Saves the workspace's changes now (the transcript is saved at the end of every turn)."""
        saved = deleted = 0
        if self._sandbox is not None and self._sync is not None:
            saved, deleted = await self._sync.settle(self._sandbox)
        await self._services.events.flush(self.session_id)
        return agent_runtime_pb2.SyncSessionResponse(synced_at=now(), files_saved=saved, files_deleted=deleted)

    def idle_seconds(self) -> float | None:
        """How long nothing has happened, or None while a turn runs or waits."""
        if self._running is not None or self._queue or self._being_stored:
            return None
        return asyncio.get_running_loop().time() - self._last_activity

    async def check_sandbox(self) -> None:
        """Notices a sandbox that died: says so on the stream; the next message gets a new one."""
        if self._sandbox is None or self._sandbox_state.status != session_pb2.SANDBOX_STATUS_READY:
            return
        health = await self._sandbox.poll()
        self._sandbox_state.last_health_check.CopyFrom(now())
        if not health.running:
            self._status(session_pb2.SANDBOX_STATUS_TERMINATED, f"The sandbox stopped: {health.message}")

    async def close(self, cancel_waiting: bool, grace: float = 0.0) -> int:
        """Starts no more turns, gives a running one `grace` seconds, then interrupts it (it ends with its
        events); saves the workspace and ends the sandbox. Waiting messages are cancelled, each with a
        turn_completed, or (`cancel_waiting` False: a restart) stay stored, to run when it is next loaded;
        returns how many stay."""
        async with self._accepting:  # a message being accepted is stored first, and shares their fate
            self._closed = True
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._no_turns.wait(), grace)
        if self._running_task is not None:
            self._running_task.cancel()
        await self._no_turns.wait()
        while cancel_waiting and self._queue:
            turn = self._queue.pop(0)
            self._emit_completed(turn, events_pb2.TurnOutcome.TURN_OUTCOME_CANCELLED, CANCELLED_MESSAGE)
        left = len(self._queue)
        self._queue.clear()
        for task in [self._worker, *self._background]:
            task.cancel()
        if self._sandbox is not None:
            with contextlib.suppress(ApiError):
                await self.sync()
            await self._sandbox.terminate()
            self._sandbox_state.status = session_pb2.SANDBOX_STATUS_TERMINATED
        if self._model_channel is not None:
            await self._model_channel.close()
        self._status(self._sandbox_state.status, "Unloaded")
        await self._services.events.flush(self.session_id)
        return left

    async def abandon(self) -> None:
        """The session's lease is lost: another replica works for it now. Its turn and agent stop at once,
        nothing more is written for it from here, and its sandbox ends, unless the provider's sandboxes
        outlive a replica (Modal), where the new owner finds it again."""
        self._closed = True
        self._services.storage.revoke()
        for task in [self._worker, *self._background, *([self._running_task] if self._running_task else [])]:
            task.cancel()
        if self._sandbox is not None and not self._services.sandboxes.outlives_runtime:
            await self._sandbox.terminate()
        if self._model_channel is not None:
            await self._model_channel.close()
        self._no_turns.set()


def _describe(error: Exception) -> str:
    if isinstance(error, ApiError):
        return error.message
    if isinstance(error, anthropic.APIError):
        return f"the model API failed: {error}"
    return f"the turn failed: {type(error).__name__}: {error}"
