"""A sandbox's files, for the async API: read, write, list, and whole trees
up and down as tar streams. Paths are absolute paths inside the sandbox;
a use of a paused sandbox wakes it."""

from __future__ import annotations

import asyncio
import tempfile
from typing import AsyncIterator, List, Optional

from . import _calls as calls
from . import routes
from ._http import AsyncHTTP
from ._tar import Data, chunks_of, extract, tar_stream
from ._wire import decode, items
from .errors import NotFound
from .models import FileInfo


class AsyncVolumeFiles:
    """File operations on one volume, without a sandbox (``client.volume_files(name)``). Paths start at
    the volume's top (``/``); one that leads out of it (``..``, a symlink pointing out) is refused."""

    def __init__(self, http: AsyncHTTP, ref: str, files: routes.FileRoutes = routes.VOLUME_FILES) -> None:
        self._http = http
        self._ref = ref
        self._routes = files

    async def read(self, path: str) -> bytes:
        """The whole file."""
        return (await self._http.send(calls.file(self._routes.read, self._ref, path))).content

    async def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """The whole file as text."""
        return (await self.read(path)).decode(encoding)

    async def stream(self, path: str) -> AsyncIterator[bytes]:
        """The file's content in chunks, as it arrives (for large files)."""
        async with self._http.stream(calls.file(self._routes.read, self._ref, path)) as resp:
            async for chunk in resp.aiter_bytes():
                yield chunk

    async def write(self, path: str, data: Data, *, mode: Optional[int] = None, mkdirs: bool = False) -> FileInfo:
        """Writes a file atomically: a string (UTF-8), bytes, a binary file object or an iterable of chunks
        (streamed). ``mode`` defaults to 0o644; ``mkdirs`` makes missing parent directories."""
        return decode(FileInfo, await self._http.json(calls.write_file(self._routes.write, self._ref, path, data, mode, mkdirs)))

    async def stat(self, path: str) -> FileInfo:
        """Describes a path (a final symlink is not followed)."""
        return decode(FileInfo, await self._http.json(calls.file(self._routes.stat, self._ref, path)))

    async def exists(self, path: str) -> bool:
        """Whether the path exists."""
        try:
            await self.stat(path)
            return True
        except NotFound:
            return False

    async def list(self, path: str) -> List[FileInfo]:
        """A directory's entries, sorted by name."""
        data = await self._http.json(calls.file(self._routes.list, self._ref, path))
        return [decode(FileInfo, e) for e in items(data, "entries")]

    async def mkdir(self, path: str, parents: bool = False) -> FileInfo:
        """Makes a directory; with parents, missing parents too."""
        call = calls.file(self._routes.mkdir, self._ref, path, parents=True if parents else None)
        return decode(FileInfo, await self._http.json(call))

    async def remove(self, path: str, recursive: bool = False) -> None:
        """Removes a file, or with recursive a directory tree."""
        await self._http.send(calls.file(self._routes.remove, self._ref, path, recursive=True if recursive else None))



class AsyncFiles(AsyncVolumeFiles):
    """File operations on one sandbox (``sandbox.files``), with whole trees as tar streams."""

    def __init__(self, http: AsyncHTTP, ref: str) -> None:
        super().__init__(http, ref, routes.SANDBOX_FILES)

    async def upload(self, local: str, remote_dir: str) -> None:
        """Copies a local file or directory tree into remote_dir (made if missing), streamed as a tar:
        uploading ./app to /root makes /root/app."""
        await self.upload_tar(remote_dir, tar_stream(local))

    async def upload_tar(self, remote_dir: str, tar: Data) -> None:
        """Extracts a tar archive (bytes, a file object or chunks; gzipped or not) into remote_dir."""
        await self._http.send(calls.write_archive(self._ref, remote_dir, chunks_of(tar)))

    async def download(self, remote: str, local_dir: str) -> None:
        """Copies a file or tree of the sandbox into local_dir: downloading /root/app to . makes ./app.
        The archive is spooled to a temporary file (not memory), then extracted."""
        with tempfile.TemporaryFile() as spool:
            async with self._http.stream(calls.file(routes.read_archive, self._ref, remote)) as resp:
                async for chunk in resp.aiter_bytes():
                    spool.write(chunk)
            spool.seek(0)
            await asyncio.get_running_loop().run_in_executor(None, extract, spool, local_dir)

    async def download_tar(self, remote: str) -> AsyncIterator[bytes]:
        """A tar stream of a file or tree, in chunks; its entries start with remote's base name."""
        async with self._http.stream(calls.file(routes.read_archive, self._ref, remote)) as resp:
            async for chunk in resp.aiter_bytes():
                yield chunk

