"""The kernel a local sandbox may use: its processes cannot reach into one another, cannot make user
namespaces, and cannot open io_uring, bpf, perf events, keyrings or vsock; everyday work still runs. A
private process (an agent CLI) cannot be reached even through /proc by the processes it starts."""

from __future__ import annotations

import json

from tests.conformance.sandbox.helpers import run, shell
from tests.integration.sandboxes.conftest import MakeSandbox

EPERM, ENOSYS, EAFNOSUPPORT = 1, 38, 97

# Prints {call: errno or 0} for each call the filter refuses.
KERNEL_SURFACE = r"""
import ctypes, json, os, socket
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(number, *args):
    result = libc.syscall(number, *args)
    return 0 if result >= 0 else ctypes.get_errno()
buffer = ctypes.create_string_buffer(256)
results = {
    "io_uring_setup": errno_of(425, 4, buffer),
    "bpf": errno_of(321, 0, buffer, 64),
    "perf_event_open": errno_of(298, buffer, 0, -1, -1, 0),
    "userfaultfd": errno_of(323, 0),
    "keyctl": errno_of(250, 0, -3, 0, 0, 0),
    "add_key": errno_of(248, b"user", b"k", b"v", 1, -3),
    "clone3": errno_of(435, buffer, 88),
}
results["unshare_user"] = 0 if libc.unshare(0x10000000) == 0 else ctypes.get_errno()  # CLONE_NEWUSER
try:
    socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    results["vsock"] = 0
except OSError as error:
    results["vsock"] = error.errno
print(json.dumps(results))
"""

# Reaches into the process `pid` four ways; prints {way: errno or 0}.
REACH_INTO = r"""
import ctypes, json, os, sys
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(result):
    return 0 if result >= 0 else ctypes.get_errno()
results = {"ptrace": errno_of(libc.ptrace(16, pid, 0, 0))}  # PTRACE_ATTACH
local, remote = ctypes.create_string_buffer(8), ctypes.create_string_buffer(8)
iov = (ctypes.c_void_p * 2)(ctypes.cast(local, ctypes.c_void_p), 8)
results["process_vm_readv"] = errno_of(libc.syscall(310, pid, iov, 1, iov, 1, 0))
pidfd = libc.syscall(434, pid, 0)
results["pidfd_getfd"] = errno_of(libc.syscall(438, pidfd, 1, 0)) if pidfd >= 0 else -1
for way, path, mode in (("proc_fd", f"/proc/{pid}/fd/1", os.O_WRONLY), ("proc_mem", f"/proc/{pid}/mem", os.O_RDWR)):
    try:
        os.close(os.open(path, mode))
        results[way] = 0
    except OSError as error:
        results[way] = error.errno
print(json.dumps(results))
"""

# Runs REACH_INTO against itself from a child, then says it is done on its own stdout.
PARENT = r"""
import subprocess, sys, os
child = subprocess.run([sys.executable, "-c", sys.argv[1], str(os.getpid())], capture_output=True, text=True)
print(child.stdout.strip() or child.stderr, flush=True)
"""


async def test_user_namespaces_io_uring_bpf_keyrings_and_vsock_are_refused(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()

    finished = await run(sandbox, ["python3", "-c", KERNEL_SURFACE])

    assert json.loads(finished.stdout) == {
        "io_uring_setup": EPERM,
        "bpf": EPERM,
        "perf_event_open": EPERM,
        "userfaultfd": EPERM,
        "keyctl": EPERM,
        "add_key": EPERM,
        "clone3": ENOSYS,  # so that libc falls back to clone, whose flags the filter reads
        "unshare_user": EPERM,
        "vsock": EAFNOSUPPORT,
    }, finished.stderr
    for command in ("unshare -Urm true", "unshare -Urn true"):
        refused = await shell(sandbox, command)
        assert refused.result.exit_code != 0 and b"Operation not permitted" in refused.stderr, command


async def test_processes_of_a_sandbox_cannot_reach_into_one_another(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    await shell(sandbox, "sleep 300 > /dev/null 2>&1 &")
    sleeper = (await shell(sandbox, "pgrep -x sleep -n")).stdout.decode().strip()

    reached = json.loads((await run(sandbox, ["python3", "-c", REACH_INTO, sleeper])).stdout)

    # The sleeper is an ordinary process of the same user: only the filter stops these.
    assert {way: reached[way] for way in ("ptrace", "process_vm_readv", "pidfd_getfd")} == {
        "ptrace": EPERM,
        "process_vm_readv": EPERM,
        "pidfd_getfd": EPERM,
    }


async def test_a_private_process_cannot_be_reached_by_what_it_starts(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()

    private = await run(sandbox, ["python3", "-c", PARENT, REACH_INTO], private=True)
    ordinary = await run(sandbox, ["python3", "-c", PARENT, REACH_INTO])

    assert set(json.loads(private.stdout).values()) == {EPERM, 13}, private.stdout  # EACCES for /proc
    assert json.loads(ordinary.stdout)["proc_mem"] == 0, "an ordinary parent's memory is open to its children"


async def test_every_process_of_the_sandbox_is_filtered(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    await shell(sandbox, "sleep 300 > /dev/null 2>&1 &")

    listing = await shell(
        sandbox, 'for s in /proc/[0-9]*/status; do grep -q "^Uid:\\s*$(id -u)\\s" $s && grep ^Seccomp: $s; done'
    )

    filters = listing.stdout.decode().split()
    assert len(filters) >= 3, "the holder of the namespaces, the sleeper and this shell"
    assert set(filters) == {"Seccomp:", "2"}, listing.stdout


async def test_everyday_work_runs_under_the_filter(make_sandbox: MakeSandbox) -> None:
    sandbox = await make_sandbox()
    python = (
        "import multiprocessing, subprocess, threading\n"
        "threading.Thread(target=print, args=('thread',)).start()\n"
        "print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())\n"
        "with multiprocessing.Pool(2) as pool: print(sum(pool.map(abs, [-1, -2])))\n"
    )
    node = "require('child_process').exec('echo spawned', (e, out) => console.log(out.trim()))"

    finished = await shell(
        sandbox,
        f'python3 -c "{python}" && node -e "{node}"'
        " && git init -q repo && cd repo && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m m"
        " && git log --oneline | wc -l",
    )

    assert finished.stdout.decode().split() == ["thread", "child", "3", "spawned", "1"], finished.stderr
