"""The fake Task Command Router (`modal.task_command_router.TaskCommandRouter`): the worker side, where
execs start, stream their output, take stdin and end.

Calls carry `authorization: Bearer <jwt>` from `SandboxGetCommandRouterAccess`, valid for one task. Once a
sandbox has ended, its task is gone: calls about it answer NOT_FOUND, as the real router's do.
"""

from __future__ import annotations

from typing import Any

from grpclib import GRPCError, Status
from grpclib.server import Stream
from modal_proto import task_command_router_grpc
from modal_proto import task_command_router_pb2 as router_pb2

from tests.fakes.modal.calls import guarded, header
from tests.fakes.modal.processes import FakeExec, StdinClosed, StdinGap
from tests.fakes.modal.sandboxes import FakeSandbox
from tests.fakes.modal.state import FakeModalState


class CommandRouter(task_command_router_grpc.TaskCommandRouterBase):
    def __init__(self, state: FakeModalState) -> None:
        self.state = state
        self.log = state.log

    def __mapping__(self) -> dict[str, Any]:
        return guarded(super().__mapping__(), self.log, self._authenticate)

    def _authenticate(self, method: str, stream: Stream[Any, Any]) -> None:
        if self._token_subject(stream) is None:
            raise GRPCError(Status.UNAUTHENTICATED, "Invalid or expired command router JWT")

    def _token_subject(self, stream: Stream[Any, Any]) -> str | None:
        authorization = header(stream, "authorization")
        if authorization is None or not authorization.startswith("Bearer "):
            return None
        return self.state.router_tokens.subject(authorization.removeprefix("Bearer "))

    def _task(self, stream: Stream[Any, Any], task_id: str) -> FakeSandbox:
        if self._token_subject(stream) != task_id:
            raise GRPCError(Status.UNAUTHENTICATED, f"The JWT is not for task {task_id}")
        sandbox = self.state.sandbox_of_task(task_id)
        if not sandbox.running:
            raise GRPCError(Status.NOT_FOUND, f"Task {task_id} has finished")
        return sandbox

    def _exec(self, stream: Stream[Any, Any], task_id: str, exec_id: str) -> tuple[FakeSandbox, FakeExec]:
        sandbox = self._task(stream, task_id)
        found = sandbox.execs.get(exec_id)
        if found is None:
            raise GRPCError(Status.NOT_FOUND, f"Exec {exec_id} not found")
        return sandbox, found

    async def TaskExecStart(
        self, stream: Stream[router_pb2.TaskExecStartRequest, router_pb2.TaskExecStartResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        sandbox = self._task(stream, request.task_id)
        await sandbox.exec(request, self.log)
        await stream.send_message(router_pb2.TaskExecStartResponse())

    async def TaskExecStdioRead(
        self, stream: Stream[router_pb2.TaskExecStdioReadRequest, router_pb2.TaskExecStdioReadResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        _, running = self._exec(stream, request.task_id, request.exec_id)
        stdout = request.file_descriptor == router_pb2.TASK_EXEC_STDIO_FILE_DESCRIPTOR_STDOUT
        async for chunk in (running.stdout if stdout else running.stderr).read_from(request.offset):
            await stream.send_message(router_pb2.TaskExecStdioReadResponse(data=chunk))

    async def TaskExecStdinWrite(
        self, stream: Stream[router_pb2.TaskExecStdinWriteRequest, router_pb2.TaskExecStdinWriteResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        _, running = self._exec(stream, request.task_id, request.exec_id)
        await _write_stdin(running, request.offset, request.data, request.eof)
        await stream.send_message(router_pb2.TaskExecStdinWriteResponse())

    async def TaskExecStdinWriteStream(
        self,
        stream: Stream[router_pb2.TaskExecStdinWriteStreamRequest, router_pb2.TaskExecStdinWriteStreamResponse],
    ) -> None:
        first = await stream.recv_message()
        if first is None or first.WhichOneof("payload") != "start":
            raise GRPCError(Status.INVALID_ARGUMENT, "A stdin write stream must begin with `start`")
        _, running = self._exec(stream, first.start.task_id, first.start.exec_id)
        offset = first.start.offset
        async for message in stream:
            payload = message.WhichOneof("payload")
            if payload == "data":
                await _write_stdin(running, offset, message.data, False)
                offset += len(message.data)
            elif payload == "end":
                await _write_stdin(running, offset, b"", True)
            else:
                raise GRPCError(Status.INVALID_ARGUMENT, "`start` may only come first")
        await stream.send_message(router_pb2.TaskExecStdinWriteStreamResponse())

    async def TaskExecStdinStatus(
        self, stream: Stream[router_pb2.TaskExecStdinStatusRequest, router_pb2.TaskExecStdinStatusResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        _, running = self._exec(stream, request.task_id, request.exec_id)
        await stream.send_message(
            router_pb2.TaskExecStdinStatusResponse(num_bytes_written=running.stdin_written, closed=running.stdin_closed)
        )

    async def TaskExecPoll(
        self, stream: Stream[router_pb2.TaskExecPollRequest, router_pb2.TaskExecPollResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        _, running = self._exec(stream, request.task_id, request.exec_id)
        if not running.exit.done():
            await stream.send_message(router_pb2.TaskExecPollResponse())
            return
        await stream.send_message(router_pb2.TaskExecPollResponse(**running.exit.result().fields()))

    async def TaskExecWait(
        self, stream: Stream[router_pb2.TaskExecWaitRequest, router_pb2.TaskExecWaitResponse]
    ) -> None:
        request = await stream.recv_message()
        assert request is not None
        sandbox, running = self._exec(stream, request.task_id, request.exec_id)
        status = await running.exit
        if not sandbox.running:  # killed because the sandbox ended: the task is gone
            raise GRPCError(Status.NOT_FOUND, f"Task {request.task_id} has finished")
        await stream.send_message(router_pb2.TaskExecWaitResponse(**status.fields()))


async def _write_stdin(running: FakeExec, offset: int, data: bytes, eof: bool) -> None:
    try:
        await running.write_stdin(offset, data, eof)
    except StdinGap as gap:
        raise GRPCError(Status.OUT_OF_RANGE, str(gap)) from None
    except StdinClosed as closed:
        raise GRPCError(Status.FAILED_PRECONDITION, str(closed)) from None
