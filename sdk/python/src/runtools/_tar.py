"""Tar archives of local files, made and read as streams, so an upload or a
download of a large tree never holds it in memory."""

from __future__ import annotations

import io
import os
import tarfile
from typing import Any, BinaryIO, Iterable, Iterator, Optional, Union

CHUNK = 64 * 1024
BLOCK = tarfile.BLOCKSIZE

Data = Union[str, bytes, BinaryIO, Iterable[bytes]]


def chunks_of(data: Data) -> Union[bytes, Iterator[bytes]]:
    """A body for httpx: bytes as they are, a string as UTF-8, a file object read in chunks."""
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if hasattr(data, "read"):
        f: BinaryIO = data  # type: ignore[assignment]
        return iter(lambda: f.read(CHUNK), b"")
    return iter(data)


def tar_stream(local: str) -> Iterator[bytes]:
    """A tar of a local file or directory tree, its entries starting with its base name, a chunk at a time."""
    local = os.path.abspath(local)
    if not os.path.lexists(local):
        raise FileNotFoundError(f"no such file or directory to upload: {local}")
    base = os.path.dirname(local)
    for path in _walk(local):
        yield from _entry(path, os.path.relpath(path, base).replace(os.sep, "/"))
    yield b"\0" * (2 * BLOCK)


def _walk(top: str) -> Iterator[str]:
    yield top
    if os.path.isdir(top) and not os.path.islink(top):
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                yield os.path.join(root, name)


def _entry(path: str, name: str) -> Iterator[bytes]:
    st = os.lstat(path)
    info = tarfile.TarInfo(name)
    info.mode, info.mtime = st.st_mode & 0o7777, int(st.st_mtime)
    if os.path.islink(path):
        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
    elif os.path.isdir(path):
        info.type = tarfile.DIRTYPE
    elif os.path.isfile(path):
        info.size = st.st_size
    else:
        return  # sockets, devices and pipes stay behind
    yield info.tobuf(format=tarfile.PAX_FORMAT)
    if info.isreg():
        yield from _content(path, info.size)


def _content(path: str, size: int) -> Iterator[bytes]:
    sent = 0
    with open(path, "rb") as f:
        while sent < size:
            chunk = f.read(min(CHUNK, size - sent))
            if not chunk:
                raise OSError(f"{path} shrank while it was being uploaded")
            sent += len(chunk)
            yield chunk
    if size % BLOCK:
        yield b"\0" * (BLOCK - size % BLOCK)


class IterReader(io.RawIOBase):
    """A read-only file object over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: "bytearray | memoryview") -> int:  # type: ignore[override]
        while not self.buf:
            nxt: Optional[bytes] = next(self.chunks, None)
            if nxt is None:
                return 0
            self.buf = nxt
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n


def extract(fileobj: Union[BinaryIO, io.RawIOBase], dest: str) -> None:
    """Extracts a tar stream into dest; entries that would land outside it are refused."""
    os.makedirs(dest, exist_ok=True)
    root = os.path.realpath(dest)
    stream: Any = fileobj
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            target = os.path.realpath(os.path.join(root, member.name))
            if os.path.commonpath([root, target]) != root or member.isdev() or member.islnk():
                raise ValueError(f"the archive's entry {member.name!r} would land outside {dest}")
            if hasattr(tarfile, "data_filter"):
                extract_member: Any = tar.extract
                extract_member(member, root, filter="data")
            else:  # pragma: no cover - Pythons without extraction filters
                tar.extract(member, root)


DOCKERFILE_IN_CONTEXT = ".runtools.Dockerfile"


def context_stream(directory: str, dockerfile: Optional[str] = None) -> Iterator[bytes]:
    """A build context: the tree under directory (entries relative to it), less what its
    .dockerignore names (plain patterns, matched as fnmatch does), plus a Dockerfile from
    outside the tree as .runtools.Dockerfile."""
    import fnmatch

    directory = os.path.abspath(directory)
    patterns = _ignore_patterns(directory)
    for path in _walk(directory):
        rel = os.path.relpath(path, directory).replace(os.sep, "/")
        if rel == "." or any(fnmatch.fnmatch(rel, p) or rel.startswith(p.rstrip("/") + "/") for p in patterns):
            continue
        yield from _entry(path, rel)
    if dockerfile is not None:
        yield from _entry_as(dockerfile, DOCKERFILE_IN_CONTEXT)
    yield b"\0" * (2 * BLOCK)


def _entry_as(path: str, name: str) -> Iterator[bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode = os.path.getsize(path), 0o644
    yield info.tobuf(format=tarfile.PAX_FORMAT)
    yield from _content(path, info.size)


def _ignore_patterns(directory: str) -> "list[str]":
    try:
        with open(os.path.join(directory, ".dockerignore"), encoding="utf-8") as f:
            lines = [ln.strip() for ln in f]
    except FileNotFoundError:
        return []
    return [ln.lstrip("/") for ln in lines if ln and not ln.startswith("#") and not ln.startswith("!")]
