"""The /etc a local sandbox sees: what programs need of the host's (the dynamic linker's cache,
certificates, the alternatives behind awk and friends, name service and standard tables, the OS's name),
read-only, and account files of its own naming its uid. None of the host's configuration (pip, npm, git),
identity (machine-id) or accounts."""

from __future__ import annotations

from collections.abc import Callable

from agent_runtime.sandboxes.base import WORKSPACE

SHARED = (
    "alternatives",
    "bash.bashrc",
    "ca-certificates",
    "debian_version",
    "ethertypes",
    "gai.conf",
    "host.conf",
    "inputrc",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "magic",
    "magic.mime",
    "mime.types",
    "networks",
    "nsswitch.conf",
    "os-release",
    "profile",
    "protocols",
    "python3",
    "python3.11",
    "resolv.conf",
    "services",
    "ssl",
)
USER = "agent"
NOBODY = 65534


def own_files(uid: int) -> dict[str, str]:
    return {
        "passwd": (
            "root:x:0:0:root:/root:/usr/sbin/nologin\n"
            f"{USER}:x:{uid}:{uid}:{USER}:{WORKSPACE}:/bin/bash\n"
            f"nobody:x:{NOBODY}:{NOBODY}:nobody:/nonexistent:/usr/sbin/nologin\n"
        ),
        "group": f"root:x:0:\n{USER}:x:{uid}:\nnogroup:x:{NOBODY}:\n",
        "hostname": "sandbox\n",
        "hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tsandbox\n",
    }


def etc_args(uid: int, data_fd: Callable[[bytes], int]) -> list[str]:
    """bwrap's arguments for /etc; data_fd gives a readable descriptor holding some bytes."""
    args = ["--perms", "0755", "--dir", "/etc"]
    for name in SHARED:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for name, content in own_files(uid).items():
        args += ["--perms", "0644", "--file", str(data_fd(content.encode())), f"/etc/{name}"]
    return [*args, "--symlink", "/proc/self/mounts", "/etc/mtab"]
