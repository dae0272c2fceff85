"""A sandbox's files, for the sync API: read, write, list, and whole trees
up and down as tar streams. Paths are absolute paths inside the sandbox;
a use of a paused sandbox wakes it."""

from __future__ import annotations

from typing import Iterator, List, Optional

from . import _calls as calls
from . import routes
from ._http import SyncHTTP
from ._tar import Data, IterReader, chunks_of, extract, tar_stream
from ._wire import decode, items
from .errors import NotFound
from .models import FileInfo


class VolumeFiles:
    """File operations on one volume, without a sandbox (``client.volume_files(name)``). Paths start at
    the volume's top (``/``); one that leads out of it (``..``, a symlink pointing out) is refused."""

    def __init__(self, http: SyncHTTP, ref: str, files: routes.FileRoutes = routes.VOLUME_FILES) -> None:
        self._http = http
        self._ref = ref
        self._routes = files

    def read(self, path: str) -> bytes:
        """The whole file."""
        return self._http.send(calls.file(self._routes.read, self._ref, path)).content

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        """The whole file as text."""
        return self.read(path).decode(encoding)

    def stream(self, path: str) -> Iterator[bytes]:
        """The file's content in chunks, as it arrives (for large files)."""
        with self._http.stream(calls.file(self._routes.read, self._ref, path)) as resp:
            yield from resp.iter_bytes()

    def write(self, path: str, data: Data, *, mode: Optional[int] = None, mkdirs: bool = False) -> FileInfo:
        """Writes a file atomically: a string (UTF-8), bytes, a binary file object or an iterable of chunks
        (streamed). ``mode`` defaults to 0o644; ``mkdirs`` makes missing parent directories."""
        return decode(FileInfo, self._http.json(calls.write_file(self._routes.write, self._ref, path, data, mode, mkdirs)))

    def stat(self, path: str) -> FileInfo:
        """Describes a path (a final symlink is not followed)."""
        return decode(FileInfo, self._http.json(calls.file(self._routes.stat, self._ref, path)))

    def exists(self, path: str) -> bool:
        """Whether the path exists."""
        try:
            self.stat(path)
            return True
        except NotFound:
            return False

    def list(self, path: str) -> List[FileInfo]:
        """A directory's entries, sorted by name."""
        data = self._http.json(calls.file(self._routes.list, self._ref, path))
        return [decode(FileInfo, e) for e in items(data, "entries")]

    def mkdir(self, path: str, parents: bool = False) -> FileInfo:
        """Makes a directory; with parents, missing parents too."""
        call = calls.file(self._routes.mkdir, self._ref, path, parents=True if parents else None)
        return decode(FileInfo, self._http.json(call))

    def remove(self, path: str, recursive: bool = False) -> None:
        """Removes a file, or with recursive a directory tree."""
        self._http.send(calls.file(self._routes.remove, self._ref, path, recursive=True if recursive else None))



class Files(VolumeFiles):
    """File operations on one sandbox (``sandbox.files``), with whole trees as tar streams."""

    def __init__(self, http: SyncHTTP, ref: str) -> None:
        super().__init__(http, ref, routes.SANDBOX_FILES)

    def upload(self, local: str, remote_dir: str) -> None:
        """Copies a local file or directory tree into remote_dir (made if missing), streamed as a tar:
        uploading ./app to /root makes /root/app."""
        self.upload_tar(remote_dir, tar_stream(local))

    def upload_tar(self, remote_dir: str, tar: Data) -> None:
        """Extracts a tar archive (bytes, a file object or chunks; gzipped or not) into remote_dir."""
        self._http.send(calls.write_archive(self._ref, remote_dir, chunks_of(tar)))

    def download(self, remote: str, local_dir: str) -> None:
        """Copies a file or tree of the sandbox into local_dir, streamed: downloading /root/app to . makes ./app."""
        with self._http.stream(calls.file(routes.read_archive, self._ref, remote)) as resp:
            extract(IterReader(resp.iter_bytes()), local_dir)

    def download_tar(self, remote: str) -> Iterator[bytes]:
        """A tar stream of a file or tree, in chunks; its entries start with remote's base name."""
        with self._http.stream(calls.file(routes.read_archive, self._ref, remote)) as resp:
            yield from resp.iter_bytes()
