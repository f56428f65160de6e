"""Egress by name reaches global addresses only: a listed name that answers with an IPv4-mapped loopback
address or with one of the host's own interface addresses is refused, and a name or address listed
without a port is reached on 443 alone. The names come from a private /etc/hosts, in a mount namespace
of the proxy's own, so the real resolver answers them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from agent_runtime.sandboxes.local.egress import host_addresses
from tests.integration.sandboxes.conftest import REPO

DRIVER = Path(__file__).with_name("egress_names_driver.py")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(tmp_path: Path, hosts: str, allowed: list[str], targets: list[str]) -> dict[str, list[str]]:
    """What CONNECT answers for each target; PORT in an entry or target is the echo server's port."""
    hosts_file = tmp_path / "hosts"
    hosts_file.write_text(hosts)
    port = str(free_port())
    script = 'mount --bind "$0" /etc/hosts && exec "$@"'
    allowed_list, target_list = (",".join(entries).replace("PORT", port) for entries in (allowed, targets))
    command = [sys.executable, str(DRIVER), port, allowed_list, target_list]
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(hosts_file), *command],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": f"{REPO}:{REPO / 'server'}"},
    )
    assert done.returncode == 0, done.stderr
    return {target.replace(port, "PORT"): lines for target, lines in json.loads(done.stdout).items()}


def test_names_that_answer_with_the_hosts_own_addresses_are_refused(tmp_path: Path) -> None:
    interface = next(str(a) for a in sorted(host_addresses(), key=str) if a.version == 4 and not a.is_loopback)
    hosts = f"127.0.0.1 localhost\n::ffff:127.0.0.1 mapped.test\n{interface} interface.test\n"
    allowed = ["mapped.test:PORT", "interface.test:PORT", "127.0.0.1:PORT", "127.0.0.2"]

    found = answers(
        tmp_path, hosts, allowed, ["mapped.test:PORT", "interface.test:PORT", "127.0.0.1:PORT", "127.0.0.2:PORT"]
    )

    assert found == {
        "mapped.test:PORT": ["HTTP/1.1 403 Forbidden"],
        "interface.test:PORT": ["HTTP/1.1 403 Forbidden"],
        "127.0.0.1:PORT": ["HTTP/1.1 200 Connection established", "ping"],  # an address listed with its port
        "127.0.0.2:PORT": ["HTTP/1.1 403 Forbidden"],  # listed without a port: 443 only
    }


def test_any_host_still_never_reaches_the_hosts_own_addresses(tmp_path: Path) -> None:
    interface = next(str(a) for a in sorted(host_addresses(), key=str) if a.version == 4 and not a.is_loopback)
    hosts = f"127.0.0.1 localhost\n::ffff:127.0.0.1 mapped.test\n{interface} interface.test\n10.9.8.7 private.test\n"
    targets = ["localhost:PORT", "mapped.test:PORT", "interface.test:PORT", "private.test:PORT", "127.0.0.1:PORT"]

    targets += [f"{interface}:PORT", "10.9.8.7:443"]

    found = answers(tmp_path, hosts, ["*"], targets)

    assert found == {target: ["HTTP/1.1 403 Forbidden"] for target in targets}
