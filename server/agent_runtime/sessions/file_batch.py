"""Workspace changes gathered during one settle and stored with one ChangeSessionFiles call per batch: a
build that writes thousands of files costs a few storage calls, not one each."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_runtime._gen.agentruntime.v1 import persistence_pb2, workspace_pb2
from agent_runtime.storage.client import StorageClient

# A batch is stored once it holds this much content or this many files (requests stay far below a
# message's limit, and a file is at most 10 MiB).
MAX_BATCH_BYTES = 8 * 1024 * 1024
MAX_BATCH_FILES = 500


@dataclass(frozen=True)
class Saving:
    path: str
    seen: tuple[int, int]  # (size, mtime) when it was read
    content: bytes
    sha256: str


@dataclass
class FileBatch:
    saving: list[Saving] = field(default_factory=list)
    deleting: list[str] = field(default_factory=list)
    content_bytes: int = 0
    growth: int = 0  # what storing the batch adds to the bytes storage holds

    def save(self, saving: Saving, replaced_bytes: int) -> None:
        self.saving.append(saving)
        self.content_bytes += len(saving.content)
        self.growth += len(saving.content) - replaced_bytes

    def delete(self, path: str, freed_bytes: int) -> None:
        self.deleting.append(path)
        self.growth -= freed_bytes

    @property
    def full(self) -> bool:
        return self.content_bytes >= MAX_BATCH_BYTES or len(self.saving) + len(self.deleting) >= MAX_BATCH_FILES

    async def store(self, storage: StorageClient, session_id: str) -> list[workspace_pb2.WorkspaceFile]:
        """The saved files as stored, in order."""
        if not self.saving and not self.deleting:
            return []
        answer = await storage.call(
            storage.stub.ChangeSessionFiles,
            persistence_pb2.ChangeSessionFilesRequest(
                session_id=session_id,
                saved=[workspace_pb2.WorkspaceFile(path=s.path, content=s.content) for s in self.saving],
                deleted=self.deleting,
            ),
        )
        return list(answer.saved)
