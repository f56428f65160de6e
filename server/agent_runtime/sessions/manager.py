"""SessionManager: the session RPCs. Sessions live in storage; a message loads one into this process
(a LiveSession, with its turns and its sandbox) until it is deleted or the runtime stops.

In a fleet, a session is loaded only under its lease (fleet/lease_keeper.py): loading takes it, unloading
gives it back, and a session whose lease is lost is dropped at once (lease_lost). Calls for a session
another replica holds never reach here: fleet/routing.py sends them to it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Iterable

import grpc
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import (
    agent_runtime_pb2,
    events_pb2,
    persistence_pb2,
    profile_pb2,
    session_pb2,
    workspace_pb2,
)
from agent_runtime.agents import architectures
from agent_runtime.bus.base import Bus
from agent_runtime.bus.local import LocalBus
from agent_runtime.catalog.agent_profiles import AgentProfiles
from agent_runtime.catalog.environment_overlay import with_environment
from agent_runtime.catalog.environments import Environments, check_environment_id
from agent_runtime.errors import ApiError, FieldViolation, bad_request
from agent_runtime.fleet.lease_keeper import LeaseKeeper
from agent_runtime.permissions.asked import asked_in_log
from agent_runtime.permissions.awaited import closed_or_unknown
from agent_runtime.sessions import validation
from agent_runtime.sessions.inbox import Inbox, read_inbox
from agent_runtime.sessions.lifecycle import Timing, look_after
from agent_runtime.sessions.live_session import LiveSession, SessionServices
from agent_runtime.sessions.recovery import close_interrupted_turn, stored_session_ids
from agent_runtime.sessions.stored_workspace import stored_file, stored_file_list
from agent_runtime.sessions.watch_hub import SessionWatchHub
from agent_runtime.storage.leases import LEASE_HELD
from agent_runtime.timestamps import now
from agent_runtime.workspace_paths import workspace_path_problem

log = logging.getLogger(__name__)

# Session ids for idempotent creates are derived from the request_id, so a retried create finds the
# session the first attempt stored, even across restarts.
REQUEST_ID_NAMESPACE = uuid.UUID("6f1c8a52-4c1e-4d0e-9a8e-2b7d3f5e9c41")
UPDATABLE_PATHS = ("name", "metadata", "session_options")
DEFAULT_PAGE_SIZE = 50
MAIN_CONVERSATION = "main"
CALLER = "caller"  # who answered an approval or a tool call when the caller did not say
SESSION_NOT_FOUND = "SESSION_NOT_FOUND"


def session_from_record(record: persistence_pb2.SessionRecord) -> session_pb2.Session:
    session = session_pb2.Session(
        session_id=record.session_id,
        architecture=record.architecture,
        agent_profile_ref=record.agent_profile_ref,
        name=record.name,
        runtime=session_pb2.RuntimeState(loaded=False),
        agent_profile_version=record.agent_profile_version,
        environment_id=record.environment.environment_id,
    )
    for field in ("session_options", "created_at", "last_activity", "metadata", "archived_at", "usage"):
        if record.HasField(field):
            getattr(session, field).CopyFrom(getattr(record, field))
    return session


def merged_files(*layers: Iterable[workspace_pb2.WorkspaceFile]) -> list[workspace_pb2.WorkspaceFile]:
    """Later layers replace earlier files at the same path (the profile's, then the request's)."""
    by_path: dict[str, workspace_pb2.WorkspaceFile] = {}
    for layer in layers:
        for file in layer:
            by_path[file.path] = workspace_pb2.WorkspaceFile(path=file.path, content=file.content)
    return list(by_path.values())


class SessionManager:
    def __init__(
        self,
        services: SessionServices,
        watchers: SessionWatchHub,
        timing: Timing,
        leases: LeaseKeeper | None = None,
        bus: Bus | None = None,
    ) -> None:
        """`leases` in a fleet (None: a single runtime, which takes none); `bus` hears of sessions handed off."""
        self._services = services
        self._storage = services.storage
        self._events = services.events
        self._watchers = watchers
        self._timing = timing
        self._leases = leases
        self._bus = bus or LocalBus()
        self._live: dict[str, LiveSession] = {}
        self._keepers: dict[str, asyncio.Task[None]] = {}
        self._abandoning: set[asyncio.Task[None]] = set()
        self._loading = asyncio.Lock()
        self._settled: set[str] = set()  # sessions found with no work left: no need to look again
        self._stopping = False
        self.profiles = AgentProfiles(services.storage)
        self.environments = Environments(services.storage, services.sandboxes)

    def owns(self, session_id: str) -> bool:
        """Whether the session is loaded here (in a fleet: under this replica's lease)."""
        return session_id in self._live

    def _view(self, record: persistence_pb2.SessionRecord) -> session_pb2.Session:
        """The stored record with the runtime's state of the session: this replica's, or as the replica
        holding it last said."""
        session = session_from_record(record)
        live = self._live.get(record.session_id)
        elsewhere = self._watchers.runtime_elsewhere(record.session_id)
        if live is not None:
            session.runtime.CopyFrom(live.runtime_state())
        elif elsewhere is not None:
            session.runtime.CopyFrom(elsewhere)
        return session

    async def _take_lease(self, session_id: str) -> int:
        """The session's lease, taken for this replica (0 in a single runtime); LEASE_HELD while another
        replica holds it. Its events are written under it from now on."""
        if self._leases is None:
            return 0
        generation = await self._leases.acquire(session_id)
        self._events.set_fence(session_id, generation)
        return generation

    async def _give_lease_back(self, session_id: str, hand_over: bool = False) -> None:
        """Releases the session's lease, or with `hand_over` (messages wait in it) leaves it lapsed, for the
        other replicas to take."""
        if self._leases is not None:
            give_up = self._leases.hand_over if hand_over else self._leases.release
            await asyncio.shield(give_up(session_id))
            self._events.set_fence(session_id, 0)

    async def _loaded(self, session_id: str) -> LiveSession:
        async with self._loading:
            if session_id in self._live:
                return self._live[session_id]
            generation = await self._take_lease(session_id)
            try:
                return await self._load(session_id, await read_inbox(self._events, session_id), generation)
            except BaseException:
                await self._give_lease_back(session_id)
                raise

    async def _load_if_work(self, session_id: str) -> bool:
        """Under the loading lock: takes the session's lease and loads it if its log shows work left (a turn
        to close, messages to run), else gives the lease back; whether it loaded. LEASE_HELD while another
        replica holds it."""
        generation = await self._take_lease(session_id)
        try:
            inbox = await read_inbox(self._events, session_id)  # read under the lease: nobody else writes now
            if inbox.running is None and not inbox.waiting:
                await self._give_lease_back(session_id)
                return False
            await self._load(session_id, inbox, generation)
            return True
        except BaseException:
            await self._give_lease_back(session_id)
            raise

    async def _load(self, session_id: str, inbox: Inbox, generation: int) -> LiveSession:
        """Settles what a dead runtime left (its running turn is closed), then loads the session with the
        messages still waiting; called under the loading lock, so nothing touches the session meanwhile."""
        await close_interrupted_turn(self._events, session_id, inbox)
        stored = await self._storage.call(
            self._storage.stub.LoadSession, persistence_pb2.LoadSessionRequest(session_id=session_id)
        )
        record = stored.session
        profile = await self._profile(record)
        services, lease = self._services, ("", 0)
        if self._leases is not None:  # every write of the session carries its lease
            services = dataclasses.replace(services, storage=self._storage.fenced(generation, self._leases.refused))
            lease = (self._leases.replica_id, generation)

        def status_changed(state: session_pb2.RuntimeState) -> None:
            session = session_from_record(record)
            session.runtime.CopyFrom(state)
            self._watchers.publish(agent_runtime_pb2.SESSION_CHANGE_KIND_STATUS, session)

        transcripts = architectures.stored_transcripts(stored)
        live = LiveSession(services, record, profile, transcripts, inbox, status_changed, lease)
        self._live[session_id] = live
        log.info("session %s loaded (%s, profile %s)", session_id, record.architecture, record.agent_profile_ref)
        self._keepers[session_id] = asyncio.create_task(look_after(live, self._timing, self._unload))
        status_changed(live.runtime_state())
        return live

    async def resume(self, session_id: str) -> None:
        """Loads the session if a dead runtime left work in it (a turn to close, messages to run), so that
        is settled before a stream reads it, and its messages run though nobody sends again. NOT_FOUND
        for an unknown session."""
        if session_id in self._live or session_id in self._settled or self._stopping:
            return
        try:
            if self._leases is not None and (await self._leases.lookup(session_id)).held:
                return  # its holder settles it (and if it dies, whoever takes its lapsed lease)
            async with self._loading:
                if session_id in self._live:
                    return
                inbox = await read_inbox(self._events, session_id)
                # Only a message, which loads the session, gives it work (in a fleet, under a lease that
                # another replica takes over if its holder dies).
                if (inbox.running is None and not inbox.waiting) or not await self._load_if_work(session_id):
                    self._settled.add(session_id)
        except ApiError as error:
            if error.code == grpc.StatusCode.UNAVAILABLE or error.reason == SESSION_NOT_FOUND:
                raise
            if error.reason != LEASE_HELD:  # held: its holder works on it
                log.error("session %s has work left but cannot be loaded: %s", session_id, error.message)

    async def take_over(self, session_id: str, from_replica: str) -> None:
        """A lease that lapsed: its replica died (or lost touch) with the session loaded. The session is
        taken and what that replica left is settled: its running turn closed, its queued messages run."""
        if self._leases is None or session_id in self._live or self._stopping:
            return
        try:
            async with self._loading:
                if session_id in self._live:
                    return
                if await self._load_if_work(session_id):
                    log.info("session %s: taken over from replica %s", session_id, from_replica)
                else:  # what watchers were last told of it came from the replica that died
                    record = await self._record(session_id)
                    self._watchers.publish(agent_runtime_pb2.SESSION_CHANGE_KIND_STATUS, session_from_record(record))
        except ApiError as error:
            if error.reason not in (LEASE_HELD, SESSION_NOT_FOUND):
                raise

    async def take_handoff(self, session_id: str) -> None:
        """A replica that stopped gave the session back with messages waiting: run them here, unless
        another replica took it first."""
        self._settled.discard(session_id)
        try:
            await self.resume(session_id)
        except ApiError as error:
            log.warning("session %s was handed off but could not be taken: %s", session_id, error.message)

    def lease_lost(self, session_id: str, generation: int) -> None:
        """The session's lease is lost: another replica may work for it now. Nothing more is written for it
        here, and its turn, agent and sandbox stop at once."""
        self._events.abandon(session_id, generation)
        self._settled.discard(session_id)
        live = self._live.pop(session_id, None)
        keeper = self._keepers.pop(session_id, None)
        if keeper is not None:
            keeper.cancel()
        if live is not None:
            abandoning = asyncio.create_task(live.abandon())
            self._abandoning.add(abandoning)
            abandoning.add_done_callback(self._abandoning.discard)

    async def resume_all(self) -> None:
        """Resumes every session with work left, after a restart."""
        async for session_id in stored_session_ids(self._storage):
            try:
                await self.resume(session_id)
            except ApiError as error:
                if error.reason != SESSION_NOT_FOUND:
                    raise  # storage is away: the whole round is tried again

    async def _unload(self, live: LiveSession, cancel_waiting: bool = False, grace: float = 0.0) -> None:
        """Saves and ends a loaded session's work here; it stays in storage, with the messages still
        waiting unless `cancel_waiting`. In a fleet its lease is given back, and messages still waiting are
        handed to whichever replica takes them first."""
        if self._live.get(live.session_id) is live:
            del self._live[live.session_id]
        keeper = self._keepers.pop(live.session_id, None)
        if keeper is not None and keeper is not asyncio.current_task():
            keeper.cancel()
        waiting = await live.close(cancel_waiting, grace)
        if self._leases is not None and self._leases.generation(live.session_id):
            await self._give_lease_back(live.session_id, hand_over=bool(waiting))
            if waiting:  # so that a replica takes it now, not when it next looks
                self._bus.publish_handoff(live.session_id)

    async def send_message(
        self, request: agent_runtime_pb2.SendMessageRequest
    ) -> agent_runtime_pb2.SendMessageResponse:
        validation.raise_if_any(
            [
                *validation.check_uuid("session_id", request.session_id, "INVALID_SESSION_ID"),
                *validation.check_message(request),
                *validation.check_uuid("request_id", request.request_id, "INVALID_REQUEST_ID", required=False),
            ]
        )
        if self._stopping:
            raise ApiError(grpc.StatusCode.UNAVAILABLE, "SHUTTING_DOWN", "the runtime is stopping; send again soon")
        live = self._live.get(request.session_id)  # a loaded session's record is here: no storage call
        record = live.record if live is not None else await self._record(request.session_id)
        if record.HasField("archived_at"):
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "SESSION_ARCHIVED",
                f"session {request.session_id!r} is archived: it takes no messages",
                metadata={"session_id": request.session_id},
            )
        self._services.models.require_key(record.architecture)  # FAILED_PRECONDITION now, not in the turn
        live = live or await self._loaded(request.session_id)
        return await live.send(request)

    async def respond_to_approval(
        self, request: agent_runtime_pb2.RespondToApprovalRequest
    ) -> agent_runtime_pb2.RespondToApprovalResponse:
        validation.raise_if_any(validation.check_approval_answer(request))
        live = self._live.get(request.session_id)
        approval_id = request.approval_id or (live.request_for(request.tool_use_id) if live else "")
        answer = events_pb2.ApprovalResolved(
            approval_id=approval_id,
            decision=request.decision,
            message=request.message,
            answered_by=request.responder or CALLER,
            remember=request.remember,
            answers=request.answers,
        )
        if request.HasField("updated_input"):
            answer.updated_input.CopyFrom(request.updated_input)
        if live is None or not live.awaits(approval_id):
            named = request.approval_id or request.tool_use_id
            raise await self._not_awaited(request.session_id, named, "approval", "APPROVAL")
        return agent_runtime_pb2.RespondToApprovalResponse(resolution=await live.respond(answer))

    async def submit_tool_result(
        self, request: agent_runtime_pb2.SubmitToolResultRequest
    ) -> agent_runtime_pb2.SubmitToolResultResponse:
        validation.raise_if_any(validation.check_tool_result(request))
        live = self._live.get(request.session_id)
        call_id = request.call_id or (live.request_for(request.tool_use_id) if live else "")
        result = events_pb2.ClientToolResult(
            call_id=call_id,
            output=request.output,
            is_error=request.is_error,
            answered_by=request.responder or CALLER,
        )
        if live is None or not live.awaits(call_id):
            raise await self._not_awaited(
                request.session_id, request.call_id or request.tool_use_id, "tool call", "TOOL_CALL"
            )
        return agent_runtime_pb2.SubmitToolResultResponse(result=await live.submit(result))

    async def _not_awaited(self, session_id: str, request_id: str, noun: str, reason: str) -> ApiError:
        """What to tell of a request the session does not wait for: closed, if its log ever asked it."""
        await self._record(session_id)  # NOT_FOUND for an unknown session
        asked = await asked_in_log(self._events, session_id, request_id)
        return closed_or_unknown(noun, reason, request_id, asked)

    async def interrupt(self, session_id: str) -> agent_runtime_pb2.InterruptSessionResponse:
        await self._record(session_id)
        live = self._live.get(session_id)
        return live.interrupt() if live else agent_runtime_pb2.InterruptSessionResponse(interrupted=False)

    async def sync(self, session_id: str) -> agent_runtime_pb2.SyncSessionResponse:
        await self._record(session_id)
        live = self._live.get(session_id)
        if live is None:  # nothing of it lives here: storage already holds all of it
            return agent_runtime_pb2.SyncSessionResponse(synced_at=now())
        return await live.sync()

    async def wait_abandoned(self) -> None:
        """Returns once the sessions whose lease was lost have stopped."""
        await asyncio.gather(*self._abandoning, return_exceptions=True)

    def running_turns(self) -> int:
        return sum(live.runtime_state().turn_running for live in self._live.values())

    async def shutdown(self, grace: float) -> None:
        """Takes no new messages, lets running turns end within `grace`, interrupts the rest, saves
        every workspace and ends every sandbox."""
        self._stopping = True
        await asyncio.gather(*(self._unload(live, grace=grace) for live in list(self._live.values())))

    async def _profile(self, record: persistence_pb2.SessionRecord) -> profile_pb2.AgentProfile:
        """What the session runs: its profile version, in its environment as it was when it was created."""
        profile = await self.profiles.get(record.agent_profile_ref, record.agent_profile_version)
        return with_environment(profile, record.environment) if record.HasField("environment") else profile

    async def _record(self, session_id: str) -> persistence_pb2.SessionRecord:
        validation.check_session_id(session_id)
        return await self._storage.call(
            self._storage.stub.GetSessionRecord, persistence_pb2.GetSessionRecordRequest(session_id=session_id)
        )

    async def create(self, request: agent_runtime_pb2.CreateSessionRequest) -> session_pb2.Session:
        validation.raise_if_any(
            [
                *validation.check_profile_id("agent_profile_ref", request.agent_profile_ref),
                *validation.check_architecture(request.architecture),
                *validation.check_session_options("session_options", request.session_options, request.architecture),
                *validation.check_workspace_files("default_workspace_files", request.default_workspace_files),
                *validation.check_uuid("request_id", request.request_id, "INVALID_REQUEST_ID", required=False),
                *validation.check_name("name", request.name),
                *validation.check_metadata("metadata", request.metadata),
                *(
                    []
                    if request.agent_profile_version >= 0
                    else [FieldViolation("agent_profile_version", "must not be negative", "INVALID_VERSION")]
                ),
                *(check_environment_id("environment_id", request.environment_id) if request.environment_id else []),
            ]
        )
        profile = await self.profiles.for_new_session(request.agent_profile_ref, request.agent_profile_version)
        session_id = str(
            uuid.uuid5(REQUEST_ID_NAMESPACE, request.request_id.lower()) if request.request_id else uuid.uuid4()
        )
        created_at = now()
        record = persistence_pb2.SessionRecord(
            session_id=session_id,
            architecture=request.architecture,
            agent_profile_ref=request.agent_profile_ref,
            name=request.name,
            session_options=request.session_options,
            created_at=created_at,
            last_activity=created_at,
            metadata=request.metadata,
            agent_profile_version=profile.version,
        )
        if profile.model and not record.session_options.model:
            record.session_options.model = profile.model
        if request.environment_id:
            record.environment.CopyFrom(await self.environments.for_new_session(request.environment_id))
        files = merged_files(profile.default_workspace_files, request.default_workspace_files)
        try:
            await self._storage.call(
                self._storage.stub.CreateSessionRecord,
                persistence_pb2.CreateSessionRecordRequest(session=record, workspace_files=files),
            )
        except ApiError as error:
            if error.code != grpc.StatusCode.ALREADY_EXISTS or not request.request_id:
                raise
            return await self._replayed_create(session_id, request)
        created = session_from_record(record)
        self._watchers.publish(agent_runtime_pb2.SESSION_CHANGE_KIND_CREATED, created)
        return created

    async def _replayed_create(
        self, session_id: str, request: agent_runtime_pb2.CreateSessionRequest
    ) -> session_pb2.Session:
        existing = await self._record(session_id)
        if (existing.architecture, existing.agent_profile_ref) != (request.architecture, request.agent_profile_ref):
            raise ApiError(
                grpc.StatusCode.ALREADY_EXISTS,
                "REQUEST_ID_REUSED",
                f"request_id {request.request_id!r} already created a different session",
                metadata={"session_id": session_id},
            )
        return session_from_record(existing)

    async def get(self, session_id: str, view: session_pb2.SessionView.ValueType) -> session_pb2.Session:
        if view == session_pb2.SESSION_VIEW_BASIC:
            return self._view(await self._record(session_id))
        loaded = await self._stored(session_id)
        session = self._view(loaded.session)
        session.workspace_files.extend([f async for f in stored_file_list(self._storage, session_id)])
        blocks, subagents = architectures.conversation(
            loaded.session.architecture, architectures.stored_transcripts(loaded)
        )
        session.blocks.extend(blocks)
        session.subagents.extend(subagents)
        return session

    async def list(self, page_size: int, page_token: str) -> agent_runtime_pb2.ListSessionsResponse:
        if page_size < 0:
            raise bad_request([FieldViolation("page_size", "must not be negative", "INVALID_PAGE_SIZE")])
        page = await self._storage.call(
            self._storage.stub.ListAllSessions,
            persistence_pb2.ListAllSessionsRequest(page_size=page_size or DEFAULT_PAGE_SIZE, page_token=page_token),
        )
        return agent_runtime_pb2.ListSessionsResponse(
            sessions=[self._view(r) for r in page.sessions], next_page_token=page.next_page_token
        )

    async def update(self, request: agent_runtime_pb2.UpdateSessionRequest) -> session_pb2.Session:
        validation.check_session_id(request.session_id)
        paths = list(request.update_mask.paths)
        if paths == ["*"]:
            paths = list(UPDATABLE_PATHS)
        problems = [
            FieldViolation("update_mask", f"{p!r} is not one of {', '.join(UPDATABLE_PATHS)}", "INVALID_UPDATE_MASK")
            for p in paths
            if p not in UPDATABLE_PATHS
        ]
        if not paths:
            problems.append(FieldViolation("update_mask", "is required", "INVALID_UPDATE_MASK"))
        validation.raise_if_any(problems)
        given = request.session
        record = await self._record(request.session_id)
        checks = {
            "name": lambda: validation.check_name("session.name", given.name),
            "metadata": lambda: validation.check_metadata("session.metadata", given.metadata),
            "session_options": lambda: validation.check_session_options(
                "session.session_options", given.session_options, record.architecture
            ),
        }
        validation.raise_if_any([v for p in paths for v in checks[p]()])
        change = persistence_pb2.SessionRecord(name=given.name)
        for path in ("metadata", "session_options"):
            if path in paths:
                getattr(change, path).CopyFrom(getattr(given, path))
        live = self._live.get(request.session_id)
        storage = live.storage if live is not None else self._storage
        updated = await storage.call(
            storage.stub.UpdateSessionRecord,
            persistence_pb2.UpdateSessionRecordRequest(
                session_id=request.session_id, session=change, update_mask=field_mask_pb2.FieldMask(paths=paths)
            ),
        )
        session = self._view(updated.session)
        if live is not None:  # its next turn runs with the new options
            live.record = updated.session
        if "session_options" in paths:
            await self._events.record(
                events_pb2.SessionEvent(
                    session_id=session.session_id,
                    conversation_id=MAIN_CONVERSATION,
                    options_update=events_pb2.OptionsUpdate(session_options=session.session_options),
                )
            )
        self._watchers.publish(agent_runtime_pb2.SESSION_CHANGE_KIND_UPDATED, session)
        return session

    async def delete(self, session_id: str, purge: bool) -> agent_runtime_pb2.DeleteSessionResponse:
        validation.check_session_id(session_id)
        live = self._live.get(session_id)
        if live is not None:
            await self._unload(live, cancel_waiting=True)
        if purge:
            await self._storage.call(
                self._storage.stub.DeleteSessionRecord,
                persistence_pb2.DeleteSessionRecordRequest(session_id=session_id),
            )
            self._events.forget(session_id)
            self._settled.discard(session_id)
            self._watchers.publish(
                agent_runtime_pb2.SESSION_CHANGE_KIND_DELETED, session_pb2.Session(session_id=session_id)
            )
        else:
            record = await self._record(session_id)  # NOT_FOUND for a session that never existed
            self._watchers.publish(agent_runtime_pb2.SESSION_CHANGE_KIND_STATUS, session_from_record(record))
        return agent_runtime_pb2.DeleteSessionResponse(session_id=session_id, unloaded=live is not None, purged=purge)

    async def archive(self, session_id: str) -> session_pb2.Session:
        """Marks the session archived (so it takes no more messages), then ends its sandbox and unloads it."""
        validation.check_session_id(session_id)
        live = self._live.get(session_id)
        record = live.record if live is not None else await self._record(session_id)
        if record.HasField("archived_at"):
            return self._view(record)
        storage = live.storage if live is not None else self._storage
        updated = await storage.call(
            storage.stub.UpdateSessionRecord,
            persistence_pb2.UpdateSessionRecordRequest(
                session_id=session_id,
                session=persistence_pb2.SessionRecord(archived_at=now()),
                update_mask=field_mask_pb2.FieldMask(paths=["archived_at"]),
            ),
        )
        if live is not None:
            live.record.archived_at.CopyFrom(updated.session.archived_at)
            await self._unload(live, cancel_waiting=True)
        archived = self._view(updated.session)
        self._watchers.publish(agent_runtime_pb2.SESSION_CHANGE_KIND_UPDATED, archived)
        return archived

    async def _stored(self, session_id: str) -> persistence_pb2.LoadSessionResponse:
        validation.check_session_id(session_id)
        return await self._storage.call(
            self._storage.stub.LoadSession, persistence_pb2.LoadSessionRequest(session_id=session_id)
        )

    async def list_files(
        self, session_id: str, page_size: int, page_token: str
    ) -> agent_runtime_pb2.ListWorkspaceFilesResponse:
        validation.check_session_id(session_id)
        page = await self._storage.call(
            self._storage.stub.ListSessionFiles,
            persistence_pb2.ListSessionFilesRequest(session_id=session_id, page_size=page_size, page_token=page_token),
        )
        return agent_runtime_pb2.ListWorkspaceFilesResponse(files=page.files, next_page_token=page.next_page_token)

    async def get_file(self, session_id: str, path: str) -> workspace_pb2.WorkspaceFile:
        problem = workspace_path_problem(path)
        validation.raise_if_any(
            [
                *validation.check_uuid("session_id", session_id, "INVALID_SESSION_ID"),
                *([FieldViolation("path", problem, "INVALID_PATH")] if problem else []),
            ]
        )
        return await stored_file(self._storage, session_id, path)
