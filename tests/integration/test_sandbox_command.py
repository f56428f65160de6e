"""`agent-runtime sandbox exec`, as an operator runs it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.integration.conftest import make_profiles
from tests.support import processes


def sandbox_exec(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    profiles = tmp_path / "profiles"
    if not profiles.exists():
        make_profiles(profiles)
    return subprocess.run(
        [processes.CLI, "sandbox", "exec", f"--profiles-dir={profiles}", f"--data-dir={tmp_path / 'data'}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_runs_the_command_streams_its_output_and_exits_with_its_code(tmp_path: Path) -> None:
    finished = sandbox_exec(tmp_path, "--", "sh", "-c", "echo out; echo err >&2; pwd; exit 7")
    assert finished.returncode == 7
    assert finished.stdout == "out\n/workspace\n"
    assert finished.stderr == "err\n"
    assert list((tmp_path / "data" / "sandboxes").iterdir()) == [], "the sandbox is cleaned up"


def test_piped_input_reaches_the_command(tmp_path: Path) -> None:
    assert sandbox_exec(tmp_path, "--", "cat", stdin="through the pipe").stdout == "through the pipe"


def test_the_profiles_files_and_environment_are_what_the_command_sees(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "env.yaml").write_text("environmentVariables: {GREETING: hello}\n")
    assert sandbox_exec(tmp_path, "--profile=env", "--", "sh", "-c", "echo $GREETING").stdout == "hello\n"


def test_bad_requests_say_what_is_wrong(tmp_path: Path) -> None:
    missing_profile = sandbox_exec(tmp_path, "--profile=nobody", "--", "true")
    assert missing_profile.returncode != 0
    assert "agent profile 'nobody' does not exist" in missing_profile.stderr
    no_command = sandbox_exec(tmp_path)
    assert no_command.returncode != 0 and "give the command" in no_command.stderr
    missing_command = sandbox_exec(tmp_path, "--", "no-such-tool")
    assert missing_command.returncode == 127 and "no-such-tool" in missing_command.stderr


def test_serve_refuses_to_start_without_a_working_sandbox(tmp_path: Path) -> None:
    # With no bwrap on its PATH, serve must say so at start instead of failing at the first message.
    finished = subprocess.run(
        [processes.CLI, "serve", "--grpc-address=127.0.0.1:0", f"--data-dir={tmp_path / 'data'}"],
        env={"PATH": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    assert "bubblewrap is not installed" in finished.stderr
