"""One fake sandbox: its definition, tags, container, execs and the result it ended with."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from modal_proto import api_pb2
from modal_proto import task_command_router_pb2 as router_pb2

from tests.fakes.modal.calls import CallLog
from tests.fakes.modal.container import Container
from tests.fakes.modal.fs_tools import FS_TOOLS_PATH, fs_tools_exec
from tests.fakes.modal.processes import FakeExec, StderrMode, SubprocessExec

REAP_SECONDS = 10.0  # how long a killed container's output pipes may take to close, at most

_STDERR_MODES: dict[int, StderrMode] = {
    router_pb2.TASK_EXEC_STDERR_CONFIG_PIPE: "pipe",
    router_pb2.TASK_EXEC_STDERR_CONFIG_DEVNULL: "devnull",
    router_pb2.TASK_EXEC_STDERR_CONFIG_STDOUT: "stdout",
}


def inline_env(sources: Iterable[api_pb2.SecretSource]) -> dict[str, str]:
    """The variables sent inline (`env=`); named secrets are not something the fake can resolve."""
    env: dict[str, str] = {}
    for source in sources:
        if source.HasField("env"):
            env.update(source.env.contents)
    return env


class FakeSandbox:
    def __init__(
        self,
        sandbox_id: str,
        task_id: str,
        app_id: str,
        request: api_pb2.SandboxCreateV2Request,
        host_root: Path,
        created_at: float,
    ) -> None:
        self.sandbox_id = sandbox_id
        self.task_id = task_id
        self.app_id = app_id
        self.definition = request.definition
        self.tags = {tag.tag_name: tag.tag_value for tag in request.tags}
        self.created_at = created_at
        self.result: api_pb2.GenericResult | None = None
        self.container = Container(host_root, task_id)
        self.execs: dict[str, FakeExec] = {}
        self._env = inline_env(request.secret_sources)
        self._finished = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._entrypoint: FakeExec | None = None
        self._watch_entrypoint: asyncio.Task[None] | None = None
        self._timing_out: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.result is None

    async def start(self) -> None:
        if self.definition.timeout_secs:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.definition.timeout_secs, self._time_out)
        if self.definition.entrypoint_args:
            self._entrypoint = await self._spawn(list(self.definition.entrypoint_args), {}, "", 0, True, "pipe")
            self._watch_entrypoint = asyncio.create_task(self._end_with_entrypoint(self._entrypoint))

    async def _end_with_entrypoint(self, entrypoint: FakeExec) -> None:
        status = await entrypoint.exit
        code = status.code if status.code is not None else 128 + (status.signal or 0)
        success, failure = api_pb2.GenericResult.GENERIC_STATUS_SUCCESS, api_pb2.GenericResult.GENERIC_STATUS_FAILURE
        await self.finish(success if code == 0 else failure, exitcode=code)

    def _time_out(self) -> None:
        self._timing_out = asyncio.create_task(self.finish(api_pb2.GenericResult.GENERIC_STATUS_TIMEOUT))

    async def exec(self, request: router_pb2.TaskExecStartRequest, log: CallLog) -> FakeExec:
        if request.exec_id in self.execs:  # the exec id doubles as the idempotency key
            return self.execs[request.exec_id]
        argv = list(request.command_args)
        if argv and argv[0] == FS_TOOLS_PATH:
            started = fs_tools_exec(self.container, argv, log)
        else:
            env = {**request.env, **inline_env(request.secret_sources)}
            pipe_stdout = request.stdout_config == router_pb2.TASK_EXEC_STDOUT_CONFIG_PIPE
            stderr = _STDERR_MODES[request.stderr_config]
            started = await self._spawn(argv, env, request.workdir, request.timeout_secs, pipe_stdout, stderr)
        self.execs[request.exec_id] = started
        return started

    async def _spawn(
        self, argv: list[str], env: Mapping[str, str], workdir: str, timeout: int, pipe_stdout: bool, stderr: StderrMode
    ) -> FakeExec:
        host_argv, cwd = self.container.command(argv, workdir or self.definition.workdir or "/")
        environment = self.container.environment({**self._env, **env})
        return await SubprocessExec.start(
            host_argv, cwd=cwd, env=environment, pipe_stdout=pipe_stdout, stderr=stderr, timeout_secs=timeout
        )

    async def finish(self, status: api_pb2.GenericResult.GenericStatus.ValueType, exitcode: int = 0) -> None:
        """Ends the sandbox: every process it has is killed and reaped."""
        if self.result is not None:
            return
        self.result = api_pb2.GenericResult(status=status, exitcode=exitcode)
        if self._timer is not None:
            self._timer.cancel()
        everything = [*self.execs.values(), *([self._entrypoint] if self._entrypoint else [])]
        for running in everything:
            running.kill()
        await asyncio.to_thread(self.container.kill_all)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(running.close() for running in everything)), REAP_SECONDS)
        await asyncio.to_thread(shutil.rmtree, self.container.host_root, True)  # a finished task keeps no files
        self._finished.set()

    async def wait(self, timeout: float) -> bool:
        """Whether the sandbox has ended, waiting up to `timeout` seconds for it to."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._finished.wait(), timeout)
        return self._finished.is_set()

    async def remove(self) -> None:
        await self.finish(api_pb2.GenericResult.GENERIC_STATUS_TERMINATED)
        for task in (self._watch_entrypoint, self._timing_out):
            if task is not None:
                await task
