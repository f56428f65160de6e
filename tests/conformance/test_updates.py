"""UpdateSessionRecord: the update mask decides which fields change, and nothing else does."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest
from google.protobuf import field_mask_pb2

from agent_runtime._gen.agentruntime.v1 import blocks_pb2, environment_pb2, session_pb2, workspace_pb2
from agent_runtime._gen.agentruntime.v1 import persistence_pb2 as pb
from tests.conformance.helpers import EPOCH_2026, create_session, expect_error, stored_files, struct, timestamp

if TYPE_CHECKING:  # the async stub type exists only in the generated .pyi
    from agent_runtime._gen.agentruntime.v1.persistence_pb2_grpc import PersistenceAdapterAsyncStub as Storage


def changes(session_id: str = "another-id") -> pb.SessionRecord:
    """A record whose every field differs from full_record()'s."""
    return pb.SessionRecord(
        session_id=session_id,
        architecture="gemini-cli",
        agent_profile_ref="other-profile",
        name="renamed ✎",
        session_options=session_pb2.SessionOptions(
            model="gemini-2.5-pro", gemini_cli=session_pb2.GeminiCliOptions(approval_mode="auto_edit")
        ),
        created_at=timestamp(EPOCH_2026 + 86400),
        last_activity=timestamp(EPOCH_2026 + 7200, 42),
        metadata=struct({"replaced": True}),
        agent_profile_version=9,
        environment=environment_pb2.Environment(environment_id="env_other"),
        archived_at=timestamp(EPOCH_2026 + 9000, 7),
        usage=blocks_pb2.Usage(input_tokens=900, output_tokens=90),
    )


async def update(storage: Storage, session_id: str, session: pb.SessionRecord, paths: list[str]) -> pb.SessionRecord:
    """Updates, checks that the response is what is now stored, and returns it."""
    response = await storage.UpdateSessionRecord(
        pb.UpdateSessionRecordRequest(
            session_id=session_id, session=session, update_mask=field_mask_pb2.FieldMask(paths=paths)
        )
    )
    stored = await storage.GetSessionRecord(pb.GetSessionRecordRequest(session_id=session_id))
    assert response.session == stored, "the response should carry the record as stored"
    return stored


async def test_one_path_changes_that_field_alone(storage: Storage) -> None:
    original = await create_session(storage)

    stored = await update(storage, original.session_id, changes(), ["name"])

    expected = pb.SessionRecord()
    expected.CopyFrom(original)
    expected.name = "renamed ✎"
    assert stored == expected


async def test_several_paths_replace_those_fields_whole(storage: Storage) -> None:
    original = await create_session(storage)

    stored = await update(storage, original.session_id, changes(), ["session_options", "metadata", "last_activity"])

    assert stored.session_options == changes().session_options
    assert stored.session_options.WhichOneof("architecture_options") == "gemini_cli"
    assert dict(stored.metadata) == {"replaced": True}, "metadata is replaced, not merged"
    assert stored.last_activity == changes().last_activity
    assert stored.name == original.name


async def test_a_named_field_left_unset_is_cleared(storage: Storage) -> None:
    original = await create_session(storage)

    stored = await update(storage, original.session_id, pb.SessionRecord(), ["name", "metadata"])

    assert stored.name == ""
    assert len(stored.metadata) == 0
    assert stored.session_options == original.session_options
    assert stored.last_activity == original.last_activity


async def test_a_star_replaces_every_updatable_field_and_no_other(storage: Storage) -> None:
    original = await create_session(storage)
    new = changes()

    stored = await update(storage, original.session_id, new, ["*"])

    assert (stored.name, stored.session_options, stored.last_activity, stored.metadata) == (
        new.name,
        new.session_options,
        new.last_activity,
        new.metadata,
    )
    assert (stored.archived_at, stored.usage) == (new.archived_at, new.usage)
    assert (
        stored.session_id,
        stored.architecture,
        stored.agent_profile_ref,
        stored.created_at,
        stored.agent_profile_version,
        stored.environment,
    ) == (
        original.session_id,
        original.architecture,
        original.agent_profile_ref,
        original.created_at,
        original.agent_profile_version,
        original.environment,
    ), "session_id, architecture, the profile, its version, the environment and created_at are not updatable"


async def test_an_empty_mask_changes_the_fields_that_are_set(storage: Storage) -> None:
    original = await create_session(storage)
    given = pb.SessionRecord(name="only the name and activity", last_activity=timestamp(EPOCH_2026 + 99))

    stored = await update(storage, original.session_id, given, [])

    expected = pb.SessionRecord()
    expected.CopyFrom(original)
    expected.name = given.name
    expected.last_activity.CopyFrom(given.last_activity)
    assert stored == expected


@pytest.mark.parametrize(
    "paths",
    [["colour"], ["name", "colour"], ["session_id"], ["architecture"], ["created_at"], ["metadata.team"]],
    ids=lambda paths: ",".join(paths),
)
async def test_an_unknown_path_is_invalid_and_changes_nothing(storage: Storage, paths: list[str]) -> None:
    original = await create_session(storage)

    await expect_error(
        storage.UpdateSessionRecord(
            pb.UpdateSessionRecordRequest(
                session_id=original.session_id, session=changes(), update_mask=field_mask_pb2.FieldMask(paths=paths)
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_UPDATE_MASK",
    )

    assert await storage.GetSessionRecord(pb.GetSessionRecordRequest(session_id=original.session_id)) == original


async def test_an_update_does_not_touch_other_sessions(storage: Storage) -> None:
    first, second = await create_session(storage), await create_session(storage)

    await update(storage, first.session_id, changes(), ["*"])

    assert await storage.GetSessionRecord(pb.GetSessionRecordRequest(session_id=second.session_id)) == second


async def test_an_update_leaves_files_and_transcripts_alone(storage: Storage) -> None:
    original = await create_session(storage, files=[workspace_pb2.WorkspaceFile(path="kept.txt", content=b"kept")])
    await storage.SaveTranscript(pb.SaveTranscriptRequest(session_id=original.session_id, raw_transcript="kept"))
    before = await storage.LoadSession(pb.LoadSessionRequest(session_id=original.session_id))

    stored = await update(storage, original.session_id, changes(), ["*"])

    after = await storage.LoadSession(pb.LoadSessionRequest(session_id=original.session_id))
    assert after.session == stored
    assert after.raw_transcript == before.raw_transcript == "kept"
    assert {path: f.content for path, f in (await stored_files(storage, original.session_id)).items()} == {
        "kept.txt": b"kept"
    }
