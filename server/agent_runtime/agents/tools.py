"""The tools of the native agent loop, executed in the session's sandbox.

Paths may be given relative to the workspace or as /workspace/...; nothing outside it is reachable
(the sandbox's file API refuses it). Output handed back to the model is capped.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent_runtime.agents.capped_output import CappedOutput
from agent_runtime.errors import ApiError
from agent_runtime.sandboxes.base import WORKSPACE, Execution, Sandbox

MAX_OUTPUT_CHARS = 100_000
MAX_COMMAND_OUTPUT_BYTES = 100_000  # kept of a command's output while it is read: its head and its tail
DEFAULT_BASH_TIMEOUT_SECONDS = 120.0
# The tools the loop runs itself, in the order it offers them.
TOOL_NAMES = ("Read", "Write", "Edit", "Bash", "Glob", "Grep")


@dataclass(frozen=True)
class ToolOutcome:
    output: str
    is_error: bool = False


class ToolInputError(ValueError):
    """The model called a tool with input it does not take."""


def _relative(path: Any) -> str:
    if not isinstance(path, str) or not path:
        raise ToolInputError("file_path must be a non-empty string")
    prefix = WORKSPACE + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ToolInputError(f"{name} must be a string")
    return value


def _capped(text: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n[output cut at {MAX_OUTPUT_CHARS} characters]"


async def _read_capped(execution: Execution) -> str:
    """stdout and stderr as they come, of which the first and the last part are kept."""
    output = CappedOutput(MAX_COMMAND_OUTPUT_BYTES)
    async for chunk in execution.output():
        output.add(chunk.data)
    return output.text()


def _schema(properties: Mapping[str, str], required: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": kind} for name, kind in properties.items()},
        "required": list(required),
    }


class ToolBox:
    def __init__(
        self,
        sandbox_for: Callable[[], Awaitable[Sandbox]],
        allowed: Sequence[str],
        environment: Callable[[], Mapping[str, str]] = dict,
    ) -> None:
        """`environment` gives what commands get besides the profile's variables (the model channel)."""
        self._sandbox_for = sandbox_for
        self._environment = environment
        implemented: dict[
            str, tuple[str, dict[str, Any], Callable[[Sandbox, Mapping[str, Any]], Awaitable[ToolOutcome]]]
        ] = {
            "Read": ("Read a file of the workspace.", _schema({"file_path": "string"}, ["file_path"]), self._read),
            "Write": (
                "Create or replace a file of the workspace.",
                _schema({"file_path": "string", "content": "string"}, ["file_path", "content"]),
                self._write,
            ),
            "Edit": (
                "Replace old_string with new_string in a file; old_string must occur once unless replace_all.",
                _schema(
                    {"file_path": "string", "old_string": "string", "new_string": "string", "replace_all": "boolean"},
                    ["file_path", "old_string", "new_string"],
                ),
                self._edit,
            ),
            "Bash": (
                "Run a shell command in the workspace.",
                _schema({"command": "string", "timeout": "number"}, ["command"]),
                self._bash,
            ),
            "Glob": (
                "List workspace files matching a glob pattern.",
                _schema({"pattern": "string"}, ["pattern"]),
                self._glob,
            ),
            "Grep": (
                "Search workspace files for a regular expression.",
                _schema({"pattern": "string", "path": "string"}, ["pattern"]),
                self._grep,
            ),
        }
        assert tuple(implemented) == TOOL_NAMES
        self._tools = {name: implemented[name] for name in allowed if name in implemented}

    def definitions(self) -> list[dict[str, Any]]:
        """The tools as the Messages API takes them."""
        return [
            {"name": name, "description": description, "input_schema": schema}
            for name, (description, schema, _) in self._tools.items()
        ]

    async def run(self, name: str, tool_input: Mapping[str, Any]) -> ToolOutcome:
        if name not in self._tools:
            return ToolOutcome(f"no tool named {name!r} is available", is_error=True)
        try:
            return await self._tools[name][2](await self._sandbox_for(), tool_input)
        except ToolInputError as error:
            return ToolOutcome(f"{name}: {error}", is_error=True)
        except ApiError as error:
            return ToolOutcome(f"{name}: {error.message}", is_error=True)

    async def _read(self, sandbox: Sandbox, tool_input: Mapping[str, Any]) -> ToolOutcome:
        data = await sandbox.read_file(_relative(tool_input.get("file_path")))
        return ToolOutcome(_capped(data.decode(errors="replace")))

    async def _write(self, sandbox: Sandbox, tool_input: Mapping[str, Any]) -> ToolOutcome:
        path = _relative(tool_input.get("file_path"))
        content = _text(tool_input.get("content"), "content").encode()
        await sandbox.write_file(path, content)
        return ToolOutcome(f"Wrote {len(content)} bytes to {path}")

    async def _edit(self, sandbox: Sandbox, tool_input: Mapping[str, Any]) -> ToolOutcome:
        path = _relative(tool_input.get("file_path"))
        old, new = _text(tool_input.get("old_string"), "old_string"), _text(tool_input.get("new_string"), "new_string")
        text = (await sandbox.read_file(path)).decode()
        count = text.count(old)
        if count == 0 or (count > 1 and not tool_input.get("replace_all")):
            found = "not found" if count == 0 else f"found {count} times (set replace_all, or give more context)"
            return ToolOutcome(f"old_string {found} in {path}", is_error=True)
        await sandbox.write_file(path, text.replace(old, new).encode())
        return ToolOutcome(f"Edited {path}: {count} replacement(s)")

    async def _bash(self, sandbox: Sandbox, tool_input: Mapping[str, Any]) -> ToolOutcome:
        command = _text(tool_input.get("command"), "command")
        timeout = tool_input.get("timeout")
        execution = await sandbox.exec(
            ["/bin/bash", "-c", command],
            env=self._environment(),
            timeout=float(timeout)
            if isinstance(timeout, int | float) and timeout > 0
            else DEFAULT_BASH_TIMEOUT_SECONDS,
        )
        try:
            await execution.close_stdin()
            output = await _read_capped(execution)
            result = await execution.wait()
        except BaseException:  # the turn was interrupted: the command must not run on
            await execution.kill()
            raise
        if result.timed_out:
            return ToolOutcome(output + "\n[the command ran out of time and was stopped]", is_error=True)
        if result.returncode != 0:
            return ToolOutcome(output + f"\n[exit code {result.returncode}]", is_error=True)
        return ToolOutcome(output)

    async def _glob(self, sandbox: Sandbox, tool_input: Mapping[str, Any]) -> ToolOutcome:
        pattern = _text(tool_input.get("pattern"), "pattern")
        matches = sorted(f.path for f in await sandbox.list_files() if fnmatch.fnmatch(f.path, pattern))
        return ToolOutcome(_capped("\n".join(matches)) if matches else "no files match")

    async def _grep(self, sandbox: Sandbox, tool_input: Mapping[str, Any]) -> ToolOutcome:
        pattern = _text(tool_input.get("pattern"), "pattern")
        path = _relative(tool_input.get("path") or ".")
        execution = await sandbox.exec(["grep", "-rnE", "--", pattern, path])
        await execution.close_stdin()
        output = await _read_capped(execution)
        result = await execution.wait()
        if result.exit_code == 1:
            return ToolOutcome("no matches")
        return ToolOutcome(output, is_error=result.exit_code != 0)
