"""The command lines of a bubblewrap sandbox: one long-lived bwrap per sandbox holding its namespaces,
and each command entered into them by sandbox-enter (native/sandbox_enter.c), as the sandbox's own uid
with no capabilities.

Both first move into the sandbox's control groups (bwrap through JOIN_CGROUPS, a /bin/sh line; a command
through sandbox-enter itself), so every process of the sandbox is counted and killable. A missing group
stops the command (exit 125) rather than running it unlimited.

Every process of the sandbox, the one holding its namespaces too, runs under exec-guard's seccomp filter
(native/exec_guard.c); an unfiltered process of the same uid could be made to run code for a filtered one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from agent_runtime.sandboxes.base import WORKSPACE
from agent_runtime.sandboxes.local.sandbox_etc import etc_args

# The agent CLIs (Claude Code, Gemini CLI) as `make install` puts them in the checkout's node_modules,
# shown read-only to every sandbox at AGENT_CLIS_MOUNT and first on its PATH.
AGENT_CLIS = Path(__file__).resolve().parents[4] / "node_modules"
AGENT_CLIS_MOUNT = "/opt/agent-clis"
# The native helpers `make install` builds, copied into every sandbox at NATIVE_MOUNT.
NATIVE = Path(__file__).resolve().parents[4] / "build" / "native"
NATIVE_MOUNT = "/opt/agent-runtime"
EXEC_GUARD = f"{NATIVE_MOUNT}/exec-guard"  # sandbox_enter.c names it too
# Run by the runtime on the host, never seen in a sandbox.
SANDBOX_ENTER = NATIVE / "sandbox-enter"
# LD_PRELOAD of a process no other process of its sandbox may reach into (native/private_process.c).
PRIVATE_PROCESS = f"{NATIVE_MOUNT}/private-process.so"
NATIVE_HELPERS = ("exec-guard", "private-process.so")
PATH = f"{AGENT_CLIS_MOUNT}/.bin:/usr/local/bin:/usr/bin:/bin"
READY = "ready"
SHARED_MEMORY_BYTES = 64 * 1024 * 1024
JOIN_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'

# Read-only system folders; everything else of the host (homes, /root, /srv, the runtime's checkout and
# data, other workspaces, the host's /etc: sandbox_etc) is simply not there.
SYSTEM = [
    "--ro-bind", "/usr", "/usr",
    "--symlink", "usr/bin", "/bin",
    "--symlink", "usr/sbin", "/sbin",
    "--symlink", "usr/lib", "/lib",
    "--symlink", "usr/lib64", "/lib64",
    "--proc", "/proc",
    "--dev", "/dev",
    # POSIX shared memory (multiprocessing, shared_memory): a small tmpfs of its own, charged like any
    # other memory to the sandbox's control group.
    "--perms", "1777", "--size", str(SHARED_MEMORY_BYTES), "--tmpfs", "/dev/shm",
]  # fmt: skip


# Kernel-wide tables of /proc no sandbox needs: the host's keys and users of keys, its kernel configuration,
# symbols and timers.
PROC_MASKED = ("config.gz", "kallsyms", "key-users", "keys", "sched_debug", "timer_list")
DataFd = Callable[[bytes], int]  # a readable descriptor holding the bytes, for bwrap to copy


def missing_native_helpers() -> list[str]:
    return [name for name in (*NATIVE_HELPERS, SANDBOX_ENTER.name) if not (NATIVE / name).is_file()]


def opt_files(data_fd: DataFd) -> list[str]:
    """The native helpers (copied, so no host path shows in the sandbox's mount table) and, where installed,
    the agent CLIs, under /opt."""
    # bwrap would create /opt as root's 0700, which the sandbox's user could not enter.
    args = ["--perms", "0755", "--dir", "/opt", "--perms", "0755", "--dir", NATIVE_MOUNT]
    for name in NATIVE_HELPERS:
        args += ["--perms", "0755", "--file", str(data_fd((NATIVE / name).read_bytes())), f"{NATIVE_MOUNT}/{name}"]
    if AGENT_CLIS.is_dir():
        args += ["--ro-bind", str(AGENT_CLIS), AGENT_CLIS_MOUNT]
    return args


def proc_masks() -> list[str]:
    """/dev/null over each of them this kernel has (the sandbox's /proc is a procfs of the same kernel)."""
    present = [name for name in PROC_MASKED if Path("/proc", name).exists()]
    return [arg for name in present for arg in ("--ro-bind", "/dev/null", f"/proc/{name}")]


def with_hidden_arguments(argv: Sequence[str], data_fd: DataFd) -> list[str]:
    """bwrap reading its options, host paths among them, from a descriptor: the sandbox can read its
    /proc/1/cmdline. The command after "--" stays on the command line, where bwrap wants it."""
    end = list(argv).index("--")
    options = b"".join(arg.encode() + b"\0" for arg in argv[1:end])
    return [argv[0], "--args", str(data_fd(options)), *argv[end:]]


def joined(procs_files: Sequence[Path], argv: Sequence[str]) -> list[str]:
    return ["/bin/sh", "-c", JOIN_CGROUPS, "join-cgroups", *map(str, procs_files), "--", *argv]


def drop_to(uid: int) -> list[str]:
    """setpriv: become uid, no groups, no capabilities now or ever."""
    return [
        "/usr/bin/setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def session_argv(workspace: Path, uid: int, info_fd: int, tmp_bytes: int, data_fd: DataFd) -> list[str]:
    """bwrap, launched as root (so it needs no user namespace) and dropping to uid for its one process,
    which prints READY once the mounts are in place and then holds the namespaces open."""
    return [
        "/usr/bin/bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup",
        "--die-with-parent",
        "--new-session",
        *SYSTEM,
        *proc_masks(),
        *etc_args(uid, data_fd),
        # Writable by everyone with the sticky bit, as tools expect (bwrap makes it root's 0755 otherwise),
        # and as large as the workspace's disk; its pages count against the memory limit.
        "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp",
        "--perms", "0755", "--dir", "/var", "--symlink", "../tmp", "/var/tmp",
        *opt_files(data_fd),
        "--bind", str(workspace), WORKSPACE,
        "--chdir", WORKSPACE,
        "--hostname", "sandbox",
        "--clearenv",
        "--info-fd", str(info_fd),
        "--",
        *drop_to(uid),
        EXEC_GUARD,
        "/bin/sh", "-c", f"echo {READY}; exec sleep infinity",
    ]  # fmt: skip


def exec_argv(
    target_pid: int,
    uid: int,
    argv: Sequence[str],
    cwd: str,
    env: Mapping[str, str],
    cpu_seconds: int,
    file_size_bytes: int,
    max_processes: int,
    procs_files: Sequence[Path],
) -> list[str]:
    """Into the sandbox's control groups and namespaces, as its uid with the per-process limits, argv run with
    exactly `env` (nothing of the runtime's environment)."""
    directory = f"{WORKSPACE}/{cwd}" if cwd else WORKSPACE
    limits = [str(target_pid), str(uid), str(cpu_seconds), str(file_size_bytes), str(max_processes)]
    # Per uid, and the uid is the sandbox's own: a process limit even without control groups.
    return [
        str(SANDBOX_ENTER), *limits, directory, *map(str, procs_files), "--",
        *(f"{key}={value}" for key, value in env.items()), "--",
        *argv,
    ]  # fmt: skip


def base_environment() -> dict[str, str]:
    return {"PATH": PATH, "HOME": WORKSPACE, "LANG": "C.UTF-8", "TERM": "dumb"}
