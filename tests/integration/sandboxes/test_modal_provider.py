"""The Modal provider through the public Sandbox interface, against the fake Modal, driven by the real
`modal` client. Every test fails if the client called an RPC the fake does not implement."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import grpc
import modal
import pytest
from grpclib import GRPCError, Status
from grpclib.client import Channel
from modal_proto import api_grpc, api_pb2

from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import (
    FileChangeKind,
    Sandbox,
    SandboxLimits,
    SandboxSpec,
    SandboxUnavailable,
)
from agent_runtime.sandboxes.modal import ModalSandboxProvider
from agent_runtime.workspace_paths import MAX_FILE_BYTES
from tests.conformance.sandbox.helpers import collect, run, shell
from tests.fakes.modal import FakeModal, connect_client, modal_provider_for, running_fake_modal
from tests.fakes.modal.state import FakeModalState

LIMITS = SandboxLimits(exec_timeout_seconds=60.0)
Change = tuple[FileChangeKind, str]


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeModal]:
    async with running_fake_modal() as running:
        yield running


@pytest.fixture(autouse=True)
def no_unimplemented_rpcs(fake: FakeModal) -> Iterator[None]:
    before = len(fake.unimplemented)
    yield
    if called := fake.unimplemented[before:]:
        pytest.fail(f"the modal client called RPCs the fake does not implement: {called}")


@pytest.fixture(scope="module")
async def provider(fake: FakeModal) -> AsyncIterator[ModalSandboxProvider]:
    async with modal_provider_for(fake) as opened:
        yield opened


@pytest.fixture
async def sandbox(provider: ModalSandboxProvider) -> AsyncIterator[Sandbox]:
    created = await provider.create(spec(env={"PROFILE_VARIABLE": "from the profile"}))
    yield created
    await created.terminate()


def spec(session_id: str = "", limits: SandboxLimits = LIMITS, **fields: Any) -> SandboxSpec:
    return SandboxSpec(session_id=session_id or str(uuid.uuid4()), limits=limits, **fields)


async def api_error(attempt: Awaitable[object]) -> ApiError:
    with pytest.raises(ApiError) as raised:
        await attempt
    return raised.value


# --- creating and finding --------------------------------------------------------------------------------


async def test_a_sandbox_is_made_as_the_profile_says(fake: FakeModal, provider: ModalSandboxProvider) -> None:
    made = await provider.create(
        spec(profile_id="coder", npm_dependencies=["typescript@5"], pip_dependencies=["requests==2.32.3"])
    )
    try:
        definition = await fake.inspect(lambda state: state.sandboxes[made.sandbox_id].definition)
        tags = await fake.inspect(lambda state: state.sandboxes[made.sandbox_id].tags)
        commands = await fake.inspect(image_commands(definition.image_id))
    finally:
        await made.terminate()
    assert definition.workdir == "/workspace"
    assert (definition.timeout_secs, definition.idle_timeout_secs) == (24 * 3600, 15 * 60)
    assert tags["agent-runtime.session_id"] == made.session_id
    installs = "\n".join(commands)
    for package in ("@anthropic-ai/claude-code", "@google/gemini-cli", "typescript@5", "requests==2.32.3", "nodejs"):
        assert package in installs
    assert "WORKDIR /workspace" in installs
    assert definition.network_access.network_access_type == api_pb2.NetworkAccess.NetworkAccessType.BLOCKED


def image_commands(image_id: str) -> Callable[[FakeModalState], list[str]]:
    """Every Dockerfile command of an image, the layers under it first."""

    def look(state: FakeModalState, layer: str = image_id) -> list[str]:
        image = state.images[layer]
        return [c for base in image.base_images for c in look(state, base.image_id)] + list(image.dockerfile_commands)

    return look


async def test_one_image_serves_every_sandbox_of_a_profile(fake: FakeModal, provider: ModalSandboxProvider) -> None:
    first = await provider.create(spec(profile_id="shared"))
    builds = (await fake.inspect(lambda state: dict(state.log.calls)))["ImageGetOrCreate"]
    second = await provider.create(spec(profile_id="shared"))
    again = (await fake.inspect(lambda state: dict(state.log.calls)))["ImageGetOrCreate"]
    images = await fake.inspect(
        lambda state: {state.sandboxes[s.sandbox_id].definition.image_id for s in (first, second)}
    )
    await first.terminate()
    await second.terminate()
    assert again == builds
    assert len(images) == 1


async def test_allowed_hosts_become_an_allowlist(fake: FakeModal, provider: ModalSandboxProvider) -> None:
    made = await provider.create(spec(allowed_hosts=["proxy.internal:8443", "10.1.0.0/16", "192.168.1.7"]))
    network = await fake.inspect(lambda state: state.sandboxes[made.sandbox_id].definition.network_access)
    await made.terminate()
    assert network.network_access_type == api_pb2.NetworkAccess.NetworkAccessType.ALLOWLIST
    assert list(network.allowed_domains) == ["proxy.internal"]
    assert list(network.allowed_cidrs) == ["10.1.0.0/16", "192.168.1.7/32"]


async def test_the_model_proxys_host_is_all_a_closed_sandbox_reaches(
    fake: FakeModal, provider: ModalSandboxProvider
) -> None:
    made = await provider.create(spec(model_proxy_url="http://10.0.0.5:41000"))
    network = await fake.inspect(lambda state: state.sandboxes[made.sandbox_id].definition.network_access)
    await made.terminate()
    assert network.network_access_type == api_pb2.NetworkAccess.NetworkAccessType.ALLOWLIST
    assert (list(network.allowed_cidrs), list(network.allowed_domains)) == (["10.0.0.5/32"], [])


async def test_a_restarted_runtime_finds_the_live_sandbox_by_its_session(fake: FakeModal) -> None:
    session_id = str(uuid.uuid4())
    async with modal_provider_for(fake) as before_restart:
        made = await before_restart.create(spec(session_id=session_id, limits=SandboxLimits(exec_timeout_seconds=0.5)))
        await made.write_file("state.txt", b"kept")
    # That provider and its client are gone; the sandbox is not.
    async with modal_provider_for(fake) as after_restart:
        found = await after_restart.find(session_id)
        assert found is not None
        assert (found.sandbox_id, found.session_id) == (made.sandbox_id, session_id)
        assert await found.read_file("state.txt") == b"kept"
        assert (await run(found, ["sleep", "30"])).result.timed_out  # the spec's time limit came back too
        assert await after_restart.find(str(uuid.uuid4())) is None
        await found.terminate()
        assert await after_restart.find(session_id) is None


async def test_check_says_why_modal_cannot_be_used(fake: FakeModal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODAL_TOKEN_ID", raising=False)
    monkeypatch.delenv("MODAL_TOKEN_SECRET", raising=False)
    without_credentials = ModalSandboxProvider()
    with pytest.raises(SandboxUnavailable, match="MODAL_TOKEN_ID and MODAL_TOKEN_SECRET"):
        await without_credentials.check()
    with pytest.raises(SandboxUnavailable, match="MODAL_TOKEN_ID and MODAL_TOKEN_SECRET"):
        await without_credentials.create(spec())
    await without_credentials.close()

    wrong = modal.Client(fake.server_url, api_pb2.CLIENT_TYPE_CLIENT, (fake.token_id, "not-the-secret"))
    await wrong.__aenter__()  # type: ignore[no-untyped-call]
    try:
        with pytest.raises(SandboxUnavailable, match="rejected the credentials"):
            await ModalSandboxProvider(client=wrong).check()
    finally:
        await wrong.close.aio()

    async with modal_provider_for(fake) as right:
        await right.check()


async def test_sandboxes_work_side_by_side_without_sharing_a_workspace(
    fake: FakeModal, provider: ModalSandboxProvider
) -> None:
    made = await asyncio.gather(*(provider.create(spec()) for _ in range(4)))
    try:
        await asyncio.gather(*(s.write_file(f"mine-{i}.txt", str(i).encode()) for i, s in enumerate(made)))
        finished = await asyncio.gather(*(shell(s, "cat mine-*.txt; ls -A /workspace") for s in made))
        listed = await asyncio.gather(*(s.list_files() for s in made))
    finally:
        await asyncio.gather(*(s.terminate() for s in made))
    assert [[f.path for f in files] for files in listed] == [[f"mine-{i}.txt"] for i in range(4)]
    for i, done in enumerate(finished):
        assert done.stdout.startswith(str(i).encode())
        if fake.mount_namespaces:
            assert done.stdout == f"{i}mine-{i}.txt\n".encode()


# --- running commands ------------------------------------------------------------------------------------


async def test_commands_run_in_the_workspace_with_the_profiles_environment_only(
    fake: FakeModal, sandbox: Sandbox
) -> None:
    finished = await run(sandbox, ["env"], env={"PER_COMMAND": "yes"})
    variables = dict(line.split("=", 1) for line in finished.stdout.decode().splitlines())
    assert variables["PROFILE_VARIABLE"] == "from the profile"
    assert variables["PER_COMMAND"] == "yes"
    assert variables["HOME"] == "/workspace"
    assert "VIRTUAL_ENV" not in variables and "PYTEST_CURRENT_TEST" not in variables  # nothing of the runtime's
    if fake.mount_namespaces:
        assert (await run(sandbox, ["pwd"])).stdout == b"/workspace\n"
        await sandbox.write_file("sub/dir/keep.txt", b"")
        assert (await run(sandbox, ["pwd"], cwd="sub/dir")).stdout == b"/workspace/sub/dir\n"


async def test_output_streams_while_the_command_runs(sandbox: Sandbox) -> None:
    execution = await sandbox.exec(["/bin/sh", "-c", "echo first; echo oops >&2; read line; echo got $line"])
    output = execution.output()
    seen: dict[str, bytes] = {"stdout": b"", "stderr": b""}
    while seen["stdout"] != b"first\n" or seen["stderr"] != b"oops\n":  # the command is waiting for stdin now
        chunk = await anext(output)
        seen[chunk.stream] += chunk.data
    await execution.write_stdin(b"it\n")
    await execution.close_stdin()
    async for chunk in output:
        seen[chunk.stream] += chunk.data
    assert seen == {"stdout": b"first\ngot it\n", "stderr": b"oops\n"}
    assert (await execution.wait()).exit_code == 0


async def test_stdin_of_several_megabytes_arrives_whole(sandbox: Sandbox) -> None:
    data = bytes(range(256)) * (3 * 4096 + 7)  # over 3 MiB: sent in several writes
    finished = await run(sandbox, ["cat"], stdin=data)
    assert finished.stdout == data
    assert finished.result.exit_code == 0


async def test_exit_codes_and_signals(sandbox: Sandbox) -> None:
    assert (await shell(sandbox, "exit 3")).result.exit_code == 3
    killed = await shell(sandbox, "kill -9 $$")
    assert killed.result.returncode == 137 and not killed.result.timed_out
    assert killed.stderr == b""


async def test_a_missing_command_or_folder_says_so_and_the_sandbox_stays_usable(sandbox: Sandbox) -> None:
    missing = await run(sandbox, ["no-such-command-here", "--flag"])
    assert missing.result.exit_code == 127
    assert b"no-such-command-here" in missing.stderr
    no_folder = await run(sandbox, ["true"], cwd="not/made")
    assert no_folder.result.exit_code != 0 and b"not/made" in no_folder.stderr
    error = await api_error(sandbox.exec(["true"], cwd="../elsewhere"))
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PATH")
    assert (await api_error(sandbox.exec([]))).reason == "INVALID_ARGV"
    assert (await run(sandbox, ["true"])).result.exit_code == 0


async def test_a_command_over_its_time_limit_is_stopped(provider: ModalSandboxProvider) -> None:
    made = await provider.create(spec(limits=SandboxLimits(exec_timeout_seconds=0.5)))
    try:
        by_default = await run(made, ["sleep", "30"])
        assert by_default.result.timed_out and by_default.result.signal == 9
        given = await run(made, ["sleep", "30"], timeout=0.2)
        assert given.result.timed_out
        assert (await run(made, ["echo", "quick"], timeout=60)).stdout == b"quick\n"
    finally:
        await made.terminate()


async def test_kill_ends_the_command_and_its_children(sandbox: Sandbox) -> None:
    execution = await sandbox.exec(["/bin/sh", "-c", "sleep 300 & echo $! > child.pid; echo started; wait"])
    output = execution.output()
    assert (await anext(output)).data == b"started\n"
    await execution.kill()
    result = await execution.wait()
    assert (result.signal, result.timed_out) == (9, False)
    assert [chunk async for chunk in output] == []
    gone = 'p=$(cat child.pid); state=$(cut -d\' \' -f3 /proc/$p/stat 2>/dev/null); [ -z "$state" ] || [ "$state" = Z ]'
    assert (await shell(sandbox, gone)).result.exit_code == 0


async def test_background_processes_outlive_their_command(sandbox: Sandbox) -> None:
    started = await shell(sandbox, "(sleep 1; echo alive > background.txt) > /dev/null 2>&1 &\necho started")
    assert started.stdout == b"started\n"
    assert (await shell(sandbox, "while [ ! -s background.txt ]; do sleep 0.1; done; cat background.txt")).stdout == (
        b"alive\n"
    )


# --- files -----------------------------------------------------------------------------------------------


async def test_files_round_trip_and_are_seen_by_commands(sandbox: Sandbox) -> None:
    binary = bytes(range(256)) * 4
    big = bytes(range(251)) * 12_000  # about 3 MiB
    await sandbox.write_file("assets/blob.bin", binary)
    await sandbox.write_file("dössier/日本語/ファイル.txt", "ünïcode".encode())
    await sandbox.write_file("deep/a/b/c/d/e/big.bin", big)
    assert await sandbox.read_file("assets/blob.bin") == binary
    assert await sandbox.read_file("deep/a/b/c/d/e/big.bin") == big
    assert (await shell(sandbox, "cat 'dössier/日本語/ファイル.txt'")).stdout == "ünïcode".encode()

    await shell(sandbox, "mkdir -p made/by && printf agent > made/by/command.txt")
    assert await sandbox.read_file("made/by/command.txt") == b"agent"
    await sandbox.write_file("made/by/command.txt", b"runtime")
    assert (await shell(sandbox, "cat made/by/command.txt")).stdout == b"runtime"

    listed = {f.path: f.size for f in await sandbox.list_files()}
    assert listed == {
        "assets/blob.bin": 1024,
        "deep/a/b/c/d/e/big.bin": len(big),
        "dössier/日本語/ファイル.txt": len("ünïcode".encode()),
        "made/by/command.txt": 7,
    }
    assert all(f.mtime_ns > 0 for f in await sandbox.list_files())


async def test_listing_leaves_out_ignored_folders_and_non_files(sandbox: Sandbox) -> None:
    await shell(
        sandbox,
        "mkdir -p node_modules/x .git/objects src/__pycache__ .venv/bin empty "
        "&& touch node_modules/x/i.js .git/objects/o src/__pycache__/m.pyc .venv/bin/py src/main.py "
        "&& ln -s src/main.py link.py",
    )
    assert [f.path for f in await sandbox.list_files()] == ["src/main.py"]


async def test_delete(sandbox: Sandbox) -> None:
    await sandbox.write_file("gone/soon.txt", b"x")
    await sandbox.delete_file("gone/soon.txt")
    assert await sandbox.list_files() == []
    missing = await api_error(sandbox.delete_file("gone/soon.txt"))
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "FILE_NOT_FOUND")


@pytest.mark.parametrize("path", ["../outside", "/etc/passwd", "a/../../b", "", "a//b", "./a"])
async def test_paths_outside_the_workspace_are_refused(sandbox: Sandbox, path: str) -> None:
    for attempt in (sandbox.read_file, lambda p: sandbox.write_file(p, b"x"), sandbox.delete_file):
        refused = await api_error(attempt(path))
        assert (refused.code, refused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PATH")


async def test_missing_oversized_and_irregular_files_are_refused(sandbox: Sandbox) -> None:
    missing = await api_error(sandbox.read_file("nope.txt"))
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "FILE_NOT_FOUND")
    assert (await api_error(sandbox.read_file("no/such/folder/file.txt"))).reason == "FILE_NOT_FOUND"

    too_large = await api_error(sandbox.write_file("big.bin", b"x" * (MAX_FILE_BYTES + 1)))
    assert (too_large.code, too_large.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "FILE_TOO_LARGE")
    assert await sandbox.list_files() == []
    await shell(sandbox, f"head -c {MAX_FILE_BYTES + 1} /dev/zero > big.bin")
    assert (await api_error(sandbox.read_file("big.bin"))).reason == "FILE_TOO_LARGE"

    await shell(sandbox, "mkdir -p folder && echo secret > folder/real.txt && ln -s folder/real.txt link.txt")
    await shell(sandbox, "ln -s folder linked && ln -s /etc outside")
    refusals: list[Callable[[], Awaitable[object]]] = [
        lambda: sandbox.read_file("folder"),
        lambda: sandbox.read_file("link.txt"),
        lambda: sandbox.read_file("linked/real.txt"),
        lambda: sandbox.read_file("outside/hostname"),
        lambda: sandbox.write_file("link.txt", b"through"),
        lambda: sandbox.write_file("linked/new.txt", b"through"),
        lambda: sandbox.write_file("folder/real.txt/under", b"x"),
        lambda: sandbox.delete_file("link.txt"),
        lambda: sandbox.delete_file("folder"),
    ]
    for refused in refusals:
        error = await api_error(refused())
        assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_A_REGULAR_FILE"), error
    assert await sandbox.read_file("folder/real.txt") == b"secret\n"
    assert (await shell(sandbox, "true")).result.exit_code == 0


# --- file events -----------------------------------------------------------------------------------------


async def test_a_burst_of_two_thousand_files_in_new_folders_and_their_deletion_are_reported(sandbox: Sandbox) -> None:
    changes = sandbox.watch()
    script = (
        "for d in $(seq 1 50); do mkdir -p burst/$d/deeper; for f in $(seq 1 40); do : > burst/$d/deeper/$f; done; done"
    )
    await shell(sandbox, script)
    created = {(FileChangeKind.CREATED, f"burst/{d}/deeper/{f}") for d in range(1, 51) for f in range(1, 41)}
    assert len(created) == 2000
    assert await collect(changes, created) == created

    await shell(sandbox, "echo more >> burst/7/deeper/7; rm -r burst/1 burst/2")
    gone = {(FileChangeKind.DELETED, f"burst/{d}/deeper/{f}") for d in (1, 2) for f in range(1, 41)}
    expected = gone | {(FileChangeKind.MODIFIED, "burst/7/deeper/7")}
    assert await collect(changes, expected) == expected

    await shell(sandbox, "rm -r burst")
    rest = {(FileChangeKind.DELETED, path) for _, path in created} - gone
    assert await collect(changes, rest) == rest


async def test_ignored_folders_make_no_events(sandbox: Sandbox) -> None:
    changes = sandbox.watch()
    await shell(sandbox, "mkdir -p node_modules/pkg .git && touch node_modules/pkg/index.js .git/HEAD sentinel")
    # One exec, one comparison: by the time the sentinel is reported, everything of that exec has been.
    assert await collect(changes, {(FileChangeKind.CREATED, "sentinel")}) == {(FileChangeKind.CREATED, "sentinel")}


async def test_changes_without_an_exec_are_found_by_polling(fake: FakeModal) -> None:
    async with modal_provider_for(fake, watch_interval_seconds=0.1) as polling:
        made = await polling.create(spec())
        try:
            changes = made.watch()
            await made.write_file("written/by/runtime.txt", b"x")  # a file call, not an exec
            assert await collect(changes, {(FileChangeKind.CREATED, "written/by/runtime.txt")})
            await made.delete_file("written/by/runtime.txt")
            assert await collect(changes, {(FileChangeKind.DELETED, "written/by/runtime.txt")})
        finally:
            await made.terminate()


async def test_every_watcher_sees_every_change(sandbox: Sandbox) -> None:
    one, two = sandbox.watch(), sandbox.watch()
    await shell(sandbox, "touch a.txt")
    expected = {(FileChangeKind.CREATED, "a.txt")}
    assert await collect(one, expected) == expected
    assert await collect(two, expected) == expected


# --- the end of a sandbox --------------------------------------------------------------------------------


async def test_a_terminated_sandbox_refuses_everything_clearly(provider: ModalSandboxProvider) -> None:
    made = await provider.create(spec())
    other_handle = await provider.find(made.session_id)
    assert other_handle is not None
    running = await made.exec(["sleep", "300"])
    changes = made.watch()
    assert (await made.poll()).running

    await made.terminate()
    await made.terminate()  # twice is fine

    assert not (await made.poll()).running
    assert (await other_handle.poll()).message == "the sandbox was terminated"
    assert (await running.wait()).signal == 9
    assert [change async for change in changes] == []
    for handle in (made, other_handle):  # the one terminated, and one that only finds out from Modal
        for attempt in _every_call(handle):
            dead = await api_error(attempt())
            assert (dead.code, dead.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SANDBOX_TERMINATED")
    carries_on = await provider.create(spec())
    assert (await run(carries_on, ["true"])).result.exit_code == 0
    await carries_on.terminate()


def _every_call(sandbox: Sandbox) -> list[Callable[[], Awaitable[object]]]:
    return [
        lambda: shell(sandbox, "true"),
        lambda: sandbox.read_file("a.txt"),
        lambda: sandbox.write_file("a.txt", b""),
        lambda: sandbox.delete_file("a.txt"),
        sandbox.list_files,
    ]


# --- the fake itself -------------------------------------------------------------------------------------


async def test_the_fake_answers_and_records_what_it_does_not_implement() -> None:
    with pytest.raises(AssertionError, match="SandboxGetLogs"):
        async with running_fake_modal() as strict:
            await _call_unimplemented(strict)
    async with running_fake_modal(fail_on_unimplemented=False) as lenient:
        await _call_unimplemented(lenient)
        assert lenient.unimplemented == ["SandboxGetLogs"]


async def _call_unimplemented(fake: FakeModal) -> None:
    host, port = fake.server_url.removeprefix("http://").split(":")
    channel = Channel(host, int(port))
    try:
        stub = api_grpc.ModalClientStub(channel)
        credentials = {"x-modal-token-id": fake.token_id, "x-modal-token-secret": fake.token_secret}
        with pytest.raises(GRPCError) as unauthenticated:
            await stub.SandboxGetLogs(api_pb2.SandboxGetLogsRequest(sandbox_id="sb-x"))
        assert unauthenticated.value.status == Status.UNAUTHENTICATED
        with pytest.raises(GRPCError) as unimplemented:
            await stub.SandboxGetLogs(api_pb2.SandboxGetLogsRequest(sandbox_id="sb-x"), metadata=credentials)
        assert unimplemented.value.status == Status.UNIMPLEMENTED
    finally:
        channel.close()


async def test_the_fake_client_helper_reaches_the_fake(fake: FakeModal) -> None:
    client = await connect_client(fake)
    try:
        app = await modal.App.lookup.aio("agent-runtime", create_if_missing=True, client=client)
        assert app.app_id in await fake.inspect(lambda state: list(state.apps.values()))
    finally:
        await client.close.aio()


def image() -> modal.Image:
    return modal.Image.debian_slim()


async def test_the_fake_ends_sandboxes_as_modal_does(fake: FakeModal) -> None:
    client = await connect_client(fake)
    try:
        app = await modal.App.lookup.aio("fake-checks", create_if_missing=True, client=client)
        # An image of its own each time: modal's default image is a process-wide object, hydrated (given an
        # image id) by whichever fake saw it first.
        exits = await modal.Sandbox.create.aio("sh", "-c", "exit 5", app=app, client=client, image=image())
        await exits.wait.aio(raise_on_termination=False)
        assert exits.returncode == 5
        times_out = await modal.Sandbox.create.aio(app=app, client=client, image=image(), timeout=1)
        with pytest.raises(modal.exception.SandboxTimeoutError):
            await times_out.wait.aio()
        assert times_out.returncode == 124
        named = await modal.Sandbox.create.aio(app=app, client=client, image=image(), name="by-name", tags={"a": "1"})
        await named.set_tags.aio({"a": "2", "b": "3"})
        again = await modal.Sandbox.from_name.aio("fake-checks", "by-name", client=client)
        assert (again.object_id, await again.get_tags.aio()) == (named.object_id, {"a": "2", "b": "3"})
        await named.terminate.aio()
        for sandbox in (exits, times_out, named, again):
            await sandbox.detach.aio()  # type: ignore[no-untyped-call]
    finally:
        await client.close.aio()
