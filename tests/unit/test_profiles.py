"""Reading agent profiles from their files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from agent_runtime._gen.agentruntime.v1 import profile_pb2
from agent_runtime.storage.profiles import ProfileDirectory, ProfileError, parse_profile

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_default_profile() -> None:
    profile = parse_profile(REPO / "profiles" / "default.yaml")
    assert (profile.id, profile.name) == ("default", "Default Agent")
    assert list(profile.tools) == ["Read", "Write", "Edit", "Bash", "Glob", "Grep"]


def test_the_seeds_field_names_are_read(tmp_path: Path) -> None:
    seed_style = {
        "id": "seed",
        "name": "Seed",
        "agentMDFile": "# Rules",
        "bundledMCPs": [{"name": "db", "startCommand": "node index.js", "localProjectPath": "mcps/db"}],
        "externalMCPs": [{"name": "web", "type": "http", "url": "https://example.test/mcp"}],
        "skills": [{"name": "s", "skillMd": "do it", "supportingFiles": [{"relativePath": "a.py", "content": "x"}]}],
        "environmentVariables": {"MODE": "ci"},
    }
    (tmp_path / "seed.json").write_text(json.dumps(seed_style))
    profile = parse_profile(tmp_path / "seed.json")
    assert profile.agent_md_file == "# Rules"
    assert profile.bundled_mcp_servers[0].start_command == "node index.js"
    assert profile.external_mcp_servers[0].url == "https://example.test/mcp"
    assert profile.skills[0].supporting_files[0].relative_path == "a.py"
    assert profile.environment_variables["MODE"] == "ci"


def test_file_content_is_text_unless_given_as_base64(tmp_path: Path) -> None:
    (tmp_path / "files.yaml").write_text(
        "defaultWorkspaceFiles:\n  - {path: a.txt, content: 'héllo'}\n  - {path: b.bin, contentBase64: 'AP8='}\n"
    )
    profile = parse_profile(tmp_path / "files.yaml")
    assert profile.id == "files", "the file name is the id when none is given"
    assert [(f.path, f.content) for f in profile.default_workspace_files] == [
        ("a.txt", "héllo".encode()),
        ("b.bin", b"\x00\xff"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "- just\n- a list\n",
        "name: [unclosed\n",
        "unknownField: 1\n",
        "tools: 7\n",
        "skills: [{name: ../escape, description: d}]\n",  # it would be written outside its folder
    ],
    ids=str,
)
def test_a_broken_profile_says_which_file(tmp_path: Path, text: str) -> None:
    (tmp_path / "broken.yaml").write_text(text)
    with pytest.raises(ProfileError, match=r"broken\.yaml"):
        parse_profile(tmp_path / "broken.yaml")


async def test_a_broken_file_is_skipped_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "good.yaml").write_text("name: Good\n")
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    (tmp_path / "twin.json").write_text(json.dumps({"id": "good", "name": "Twin"}))
    with caplog.at_level(logging.WARNING):
        listed = await ProfileDirectory(tmp_path).read()
    assert [(p.id, p.name) for p in listed.values()] == [("good", "Good")]
    assert "bad.yaml" in caplog.text and "twin.json" in caplog.text


async def test_an_edited_profile_is_read_again_and_an_unchanged_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "edited.yaml"
    path.write_text("name: First\n")
    directory = ProfileDirectory(tmp_path)
    first = await directory.load("edited")
    assert first is not None and (first.version, first.built_in) == (1, True)
    first.name = "changed by a caller"
    assert (await directory.load("edited")) == profile_pb2.AgentProfile(
        id="edited", name="First", version=1, built_in=True
    ), "callers get copies"
    path.write_text("name: Second, longer\n")
    assert (await directory.load("edited")) == profile_pb2.AgentProfile(
        id="edited", name="Second, longer", version=1, built_in=True
    )
    (tmp_path / "added.json").write_text('{"name": "Added"}')
    assert sorted(await directory.read()) == ["added", "edited"]
    assert await directory.load("missing") is None
