"""What a local sandbox can read of its host: a minimal /etc of its own, no host path of the runtime in its
process list or mount table but the agent CLIs' folder, and none of the kernel-wide key tables."""

from __future__ import annotations

from pathlib import Path

from agent_runtime.sandboxes.local import sandbox_etc
from agent_runtime.sandboxes.local.bubblewrap import AGENT_CLIS
from agent_runtime.sandboxes.local.sandbox import BubblewrapSandbox
from tests.conformance.sandbox.helpers import shell
from tests.integration.sandboxes.conftest import REPO, MakeSandbox

HOST_SECRETS = ("pip.conf", "npmrc", "gitconfig", "machine-id", "shadow")


async def test_etc_is_minimal_and_names_the_sandboxs_user(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()

    listed = set((await shell(sandbox, "ls /etc")).stdout.decode().split())
    who = (await shell(sandbox, "whoami; getent passwd $(id -u) | cut -d: -f6; hostname")).stdout.decode()
    works = await shell(
        sandbox,
        "awk 'BEGIN { print \"awk\" }'"
        " && python3 -c 'import ssl; print(len(ssl.create_default_context().get_ca_certs()) > 0)'",
    )

    shared = {name for name in sandbox_etc.SHARED if Path("/etc", name).exists()}
    assert listed == shared | set(sandbox_etc.own_files(0)) | {"mtab"}
    assert who.split() == ["agent", "/workspace", "sandbox"]
    assert works.stdout.decode().split() == ["awk", "True"], works.stderr
    for name in HOST_SECRETS:
        assert (await shell(sandbox, f"cat /etc/{name}")).result.exit_code != 0, name


async def test_no_host_path_of_the_runtime_shows_but_the_agent_clis(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    assert isinstance(sandbox, BubblewrapSandbox)
    sandboxes_root = str(sandbox.workspace.parent.parent)

    commands = (await shell(sandbox, "cat /proc/[0-9]*/cmdline | tr '\\0' ' '")).stdout.decode()
    mounts = (await shell(sandbox, "cat /proc/self/mountinfo")).stdout.decode().splitlines()

    host_paths = (str(REPO), str(AGENT_CLIS.resolve()), sandboxes_root)
    assert not any(path in commands for path in host_paths), commands
    shown = [line.split()[3] for line in mounts if any(path in line for path in host_paths)]
    assert shown == [str(AGENT_CLIS.resolve())]


async def test_the_kernels_key_tables_are_not_readable(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()

    read = await shell(sandbox, "cat /proc/key-users /proc/keys")

    assert read.stdout == b"", read.stdout
