"""Agent profiles from a directory: one YAML or JSON file a profile, read afresh on every call.

Field names may be the proto's (snake_case) or JSON's (lowerCamel, including the seed's agentMDFile,
bundledMCPs, externalMCPs). In defaultWorkspaceFiles, `content` is text; binary files use
`contentBase64`. The id is the file's `id`, or its name without the extension.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import json_format

from agent_runtime._gen.agentruntime.v1 import profile_pb2
from agent_runtime.agents import claude_profile

log = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml", ".json")


class ProfileError(ValueError):
    """A profile file that cannot be read as an AgentProfile."""


def _with_encoded_files(document: dict[str, Any]) -> dict[str, Any]:
    for key in ("defaultWorkspaceFiles", "default_workspace_files"):
        files = document.get(key)
        if not isinstance(files, list):
            continue
        for entry in files:
            if not isinstance(entry, dict):
                continue
            if "contentBase64" in entry:
                entry["content"] = entry.pop("contentBase64")
            elif isinstance(entry.get("content"), str):
                entry["content"] = base64.b64encode(entry["content"].encode()).decode()
    return document


def parse_profile(path: Path) -> profile_pb2.AgentProfile:
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        if not isinstance(document, dict):
            raise ProfileError(f"{path.name}: expected a mapping at the top level")
        document.setdefault("id", path.stem)
        profile = profile_pb2.AgentProfile()
        json_format.ParseDict(_with_encoded_files(document), profile)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, json.JSONDecodeError, json_format.ParseError) as error:
        raise ProfileError(f"{path.name}: {error}") from error
    if problems := claude_profile.problems(profile):
        raise ProfileError(f"{path.name}: {'; '.join(problems)}")
    return profile


class ProfileDirectory:
    """The profiles of a directory, read again whenever one of its profile files changes (edits take effect
    without a restart), and otherwise served from what was read last."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._read: tuple[tuple[tuple[str, int, int], ...], dict[str, profile_pb2.AgentProfile]] | None = None

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(path for path in self.directory.iterdir() if path.suffix in SUFFIXES)

    def _read_all(self) -> dict[str, profile_pb2.AgentProfile]:
        files = self._files()
        stamp = tuple((path.name, (info := path.stat()).st_mtime_ns, info.st_size) for path in files)
        if self._read is None or self._read[0] != stamp:
            self._read = (stamp, self._parse_all(files))
        return self._read[1]

    @staticmethod
    def _parse_all(files: list[Path]) -> dict[str, profile_pb2.AgentProfile]:
        profiles: dict[str, profile_pb2.AgentProfile] = {}
        for path in files:
            try:
                profile = parse_profile(path)
            except ProfileError as error:
                log.warning("skipping agent profile %s", error)
                continue
            if profile.id in profiles:
                log.warning("skipping agent profile %s: id %r is taken by another file", path.name, profile.id)
                continue
            profiles[profile.id] = profile
        return profiles

    async def read(self) -> dict[str, profile_pb2.AgentProfile]:
        """Every built-in profile by id, as read (not to be changed)."""
        return await asyncio.to_thread(self._read_all)

    async def load(self, agent_profile_id: str) -> profile_pb2.AgentProfile | None:
        """A copy of the built-in profile, marked so; None if there is none of that id."""
        read = (await self.read()).get(agent_profile_id)
        if read is None:
            return None
        copied = profile_pb2.AgentProfile()
        copied.CopyFrom(read)  # what was read stays as it was read
        copied.version = 1
        copied.built_in = True
        return copied
