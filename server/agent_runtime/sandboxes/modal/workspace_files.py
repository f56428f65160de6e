"""The runtime's file access to a Modal sandbox's workspace, through the client's filesystem API.

That API runs a small tool inside the container for each call, so the container's own view decides
what a path is. Before reading, writing or deleting, every folder on the way and the file itself are
looked at (in parallel): a symbolic link anywhere is refused, never followed, as on the local provider.
"""

from __future__ import annotations

import asyncio

import modal.exception
from modal.sandbox.sandbox import SandboxFilesystem
from modal.types import FileInfo as ModalFileInfo
from modal.types import FileType

from agent_runtime.sandboxes.base import IGNORED_FOLDERS, WORKSPACE, FileInfo
from agent_runtime.sandboxes.errors import checked_path, file_not_found, file_too_large, not_a_file
from agent_runtime.workspace_paths import MAX_FILE_BYTES

# How many folders are listed at once; each listing is one exec in the container.
LIST_CONCURRENCY = 16

_GONE = (modal.exception.SandboxFilesystemNotFoundError, modal.exception.SandboxFilesystemNotADirectoryError)


def _container_path(path: str) -> str:
    return f"{WORKSPACE}/{path}" if path else WORKSPACE


def _prefixes(path: str) -> list[str]:
    """ "a/b/c" -> ["a", "a/b", "a/b/c"]."""
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class WorkspaceFiles:
    def __init__(self, filesystem: SandboxFilesystem) -> None:
        self._fs = filesystem

    async def _stat(self, path: str) -> ModalFileInfo | None:
        try:
            return await self._fs.stat.aio(_container_path(path))
        except _GONE:
            return None

    async def _look(self, path: str) -> tuple[list[tuple[str, ModalFileInfo | None]], ModalFileInfo | None]:
        """The folders on the way to `path` with what each is (None: missing), and `path` itself. A symbolic
        link on the way is refused before anything behind it counts, even a failure to look there."""
        prefixes = _prefixes(path)
        looked = await asyncio.gather(*(self._stat(prefix) for prefix in prefixes), return_exceptions=True)
        for folder, info in zip(prefixes[:-1], looked[:-1], strict=True):
            if isinstance(info, ModalFileInfo) and info.type == FileType.SYMLINK:
                raise not_a_file(path, f"behind the symbolic link {folder!r}")
        infos: list[ModalFileInfo | None] = []
        for info in looked:
            if isinstance(info, BaseException):
                raise info
            infos.append(info)
        return list(zip(prefixes[:-1], infos[:-1], strict=True)), infos[-1]

    async def _existing_file(self, path: str) -> ModalFileInfo:
        folders, info = await self._look(path)
        if info is None or any(folder is None or folder.type != FileType.DIRECTORY for _, folder in folders):
            raise file_not_found(path)
        if info.type == FileType.SYMLINK:
            raise not_a_file(path, "a symbolic link")
        if info.type != FileType.FILE:
            raise not_a_file(path, "a directory")
        return info

    async def read(self, path: str) -> bytes:
        checked_path(path)
        info = await self._existing_file(path)
        if info.size > MAX_FILE_BYTES:
            raise file_too_large(path, info.size, MAX_FILE_BYTES)
        try:
            data = await self._fs.read_bytes.aio(_container_path(path))
        except _GONE:
            raise file_not_found(path) from None
        except modal.exception.SandboxFilesystemFileTooLargeError:
            raise file_too_large(path, info.size, MAX_FILE_BYTES) from None
        if len(data) > MAX_FILE_BYTES:  # it grew since it was looked at
            raise file_too_large(path, len(data), MAX_FILE_BYTES)
        return data

    async def write(self, path: str, data: bytes) -> None:
        checked_path(path)
        if len(data) > MAX_FILE_BYTES:
            raise file_too_large(path, len(data), MAX_FILE_BYTES)
        folders, info = await self._look(path)
        for folder, folder_info in folders:
            if folder_info is not None and folder_info.type != FileType.DIRECTORY:
                raise not_a_file(path, f"under {folder!r}, which is not a folder")
        if info is not None and info.type != FileType.FILE:
            raise not_a_file(path, "a symbolic link" if info.type == FileType.SYMLINK else "a directory")
        await self._fs.write_bytes.aio(data, _container_path(path))

    async def delete(self, path: str) -> None:
        checked_path(path)
        await self._existing_file(path)
        try:
            await self._fs.remove.aio(_container_path(path))
        except _GONE:
            raise file_not_found(path) from None

    async def list(self) -> list[FileInfo]:
        """Every regular file in the workspace, folder by folder, ignored folders left out."""
        files: list[FileInfo] = []
        folders = [""]
        limit = asyncio.Semaphore(LIST_CONCURRENCY)

        async def entries(folder: str) -> list[ModalFileInfo]:
            async with limit:
                try:
                    return await self._fs.list_files.aio(_container_path(folder))
                except _GONE:  # removed since its parent was listed
                    return []

        while folders:
            listings = await asyncio.gather(*(entries(folder) for folder in folders))
            next_folders = []
            for folder, listing in zip(folders, listings, strict=True):
                for entry in listing:
                    path = f"{folder}/{entry.name}" if folder else entry.name
                    if entry.type == FileType.DIRECTORY and entry.name not in IGNORED_FOLDERS:
                        next_folders.append(path)
                    elif entry.type == FileType.FILE:
                        files.append(FileInfo(path, entry.size, round(entry.modified_time * 1e9)))
            folders = next_folders
        return sorted(files, key=lambda file: file.path)
