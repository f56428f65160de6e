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
from agent_runtime.errors import not_found

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
    return profile


class ProfileDirectory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _read_all(self) -> dict[str, profile_pb2.AgentProfile]:
        profiles: dict[str, profile_pb2.AgentProfile] = {}
        if not self.directory.is_dir():
            return profiles
        for path in sorted(self.directory.iterdir()):
            if path.suffix not in SUFFIXES:
                continue
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

    async def list(self) -> list[profile_pb2.AgentProfileSummary]:
        profiles = await asyncio.to_thread(self._read_all)
        return [
            profile_pb2.AgentProfileSummary(id=p.id, name=p.name, description=p.description) for p in profiles.values()
        ]

    async def load(self, agent_profile_id: str) -> profile_pb2.AgentProfile:
        profiles = await asyncio.to_thread(self._read_all)
        if agent_profile_id not in profiles:
            raise not_found(
                "PROFILE_NOT_FOUND",
                f"agent profile {agent_profile_id!r} does not exist",
                agent_profile_id=agent_profile_id,
            )
        return profiles[agent_profile_id]
