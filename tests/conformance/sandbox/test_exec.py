"""Running commands: output, exit codes, stdin, environment, working folder, time limits."""

from __future__ import annotations

import os

from agent_runtime.sandboxes.base import Sandbox
from tests.conformance.sandbox.helpers import run, shell


async def test_output_is_streamed_per_stream_in_order(sandbox: Sandbox) -> None:
    finished = await shell(sandbox, "for i in 1 2 3; do echo out$i; echo err$i >&2; done")
    assert finished.result.exit_code == 0
    assert finished.stdout == b"out1\nout2\nout3\n"
    assert finished.stderr == b"err1\nerr2\nerr3\n"


async def test_exit_codes_and_signals(sandbox: Sandbox) -> None:
    assert (await shell(sandbox, "exit 3")).result.exit_code == 3
    killed = (await shell(sandbox, "kill -9 $$")).result
    assert killed.returncode == 128 + 9
    assert not killed.timed_out


async def test_stdin_reaches_the_command(sandbox: Sandbox) -> None:
    data = bytes(range(256)) * 1000
    finished = await run(sandbox, ["cat"], stdin=data)
    assert finished.stdout == data


async def test_a_ten_megabyte_line_arrives_whole(sandbox: Sandbox) -> None:
    finished = await run(sandbox, ["python3", "-c", "import sys; sys.stdout.write('x' * 10_000_000)"])
    assert finished.result.exit_code == 0
    assert finished.stdout == b"x" * 10_000_000


async def test_the_environment_is_the_profiles_and_the_commands_only(sandbox: Sandbox) -> None:
    os.environ["AGENT_RUNTIME_PLANTED_SECRET"] = "must-not-leak"
    try:
        finished = await run(sandbox, ["env"], env={"PER_COMMAND": "yes"})
    finally:
        del os.environ["AGENT_RUNTIME_PLANTED_SECRET"]
    variables = dict(line.split("=", 1) for line in finished.stdout.decode().splitlines())
    assert variables["PROFILE_VARIABLE"] == "from the profile"
    assert variables["PER_COMMAND"] == "yes"
    assert "AGENT_RUNTIME_PLANTED_SECRET" not in variables
    assert variables["HOME"] == "/workspace"


async def test_commands_run_in_the_workspace_or_a_folder_of_it(sandbox: Sandbox) -> None:
    assert (await run(sandbox, ["pwd"])).stdout == b"/workspace\n"
    await sandbox.write_file("sub/dir/keep.txt", b"")
    assert (await run(sandbox, ["pwd"], cwd="sub/dir")).stdout == b"/workspace/sub/dir\n"


async def test_a_command_over_its_time_limit_is_stopped(sandbox: Sandbox) -> None:
    finished = await run(sandbox, ["sleep", "30"], timeout=0.5)
    assert finished.result.timed_out
    assert finished.result.exit_code != 0


async def test_a_missing_command_says_so_and_the_sandbox_stays_usable(sandbox: Sandbox) -> None:
    finished = await run(sandbox, ["no-such-command-here"])
    assert finished.result.exit_code == 127
    assert b"no-such-command-here" in finished.stderr
    assert (await run(sandbox, ["true"])).result.exit_code == 0


async def test_background_processes_outlive_their_command(sandbox: Sandbox) -> None:
    started = await shell(sandbox, "(sleep 1; echo alive > background.txt) > /dev/null 2>&1 &\necho started")
    assert started.stdout == b"started\n"
    later = await shell(sandbox, "sleep 3; cat background.txt")
    assert later.stdout == b"alive\n"


async def test_the_temporary_folders_are_writable(sandbox: Sandbox) -> None:
    finished = await shell(sandbox, "echo t > /tmp/t && echo v > /var/tmp/v && cat /tmp/t /var/tmp/v")
    assert finished.stdout == b"t\nv\n", finished.stderr


async def test_shared_memory_works_as_python_uses_it(sandbox: Sandbox) -> None:
    program = (
        "from multiprocessing import shared_memory\n"
        "block = shared_memory.SharedMemory(create=True, size=1 << 20)\n"
        "block.buf[0] = 7\n"
        "other = shared_memory.SharedMemory(name=block.name)\n"
        "print(other.buf[0])\n"
        "other.close(); block.close(); block.unlink()\n"
    )
    finished = await run(sandbox, ["python3", "-c", program])
    assert finished.stdout == b"7\n", finished.stderr
