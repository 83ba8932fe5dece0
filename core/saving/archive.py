"""The zip container of ``.katman`` files: a strict reader and an atomic writer.

The reader accepts only the members the format defines, each at most once, as plain files
(no links, no directories, no encryption), with sizes bounded before anything is inflated.
Tensor members are stored uncompressed, so they are read straight from a memory map of the
file after their CRC is checked.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from katman.errors import ModelFileError

JSON_MEMBERS = ("metadata.json", "config.json", "compile.json", "training.json")
TENSOR_MEMBERS = ("model.weights.safetensors", "optimizer.safetensors", "metrics.safetensors")
# The members of a model file; training checkpoints (BackupAndRestore) hold others.
MODEL_MEMBERS = (
    "metadata.json",
    "config.json",
    "compile.json",
    "model.weights.safetensors",
    "optimizer.safetensors",
)
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 200
# How JSON members may be compressed: stored, or deflated (nothing else, so any zip reader
# in any language reads them).
JSON_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success, flush it to disk and rename it
    over ``path`` in one step. On any error (or a killed process) ``path`` keeps its previous
    content; the temporary file is removed unless the process dies."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        with open(temporary_path, "rb+") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary_path, target)
        with contextlib.suppress(OSError):  # make the rename itself durable
            directory = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary_path.unlink()
        raise


def write_archive(
    path: str | os.PathLike, json_members: dict[str, Any], tensor_writers: dict[str, Any]
) -> None:
    """Write a ``.katman`` archive atomically. ``tensor_writers`` maps member names to
    functions writing the member to a binary stream."""
    with atomic_write(path) as temporary, zipfile.ZipFile(temporary, "w") as archive:
        for name, value in json_members.items():
            text = json.dumps(value, indent=1, sort_keys=False)
            archive.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
        for name, write in tensor_writers.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            with archive.open(info, "w", force_zip64=True) as stream:
                write(stream)


class Archive:
    """A ``.katman`` file opened for reading, its structure checked.

    Raises:
        ModelFileError: not a zip, unknown/duplicate/unsafe members, oversized or
            compressed tensor members.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        members: tuple[str, ...] = MODEL_MEMBERS,
        required: tuple[str, ...] = ("metadata.json", "config.json"),
        what: str = "model file",
    ) -> None:
        self.path = Path(path)
        self.source = f"{what} {str(self.path)!r}"
        self._allowed, self._required = members, required
        try:
            self._file = open(self.path, "rb")  # noqa: SIM115  (closed in close())
        except OSError as err:
            raise ModelFileError(f"Cannot open {self.source}: {err.strerror}.") from None
        try:
            self._zip = zipfile.ZipFile(self._file)
            self.members = self._check_members(self._zip.infolist())
            self._map: mmap.mmap | None = None
        except ModelFileError:
            self.close()
            raise
        except Exception as err:  # zipfile reports damage with many exception types
            self.close()
            raise ModelFileError(f"{self.source} is not a valid zip archive ({err}).") from None

    def _check_members(self, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if info.orig_filename != name:  # zipfile cuts names at a NUL byte
                raise self._error(f"member name {info.orig_filename!r} holds a NUL byte")
            if name in members:
                raise self._error(f"member {name!r} appears twice")
            if name not in self._allowed:
                raise self._error(
                    f"unexpected member {name!r} (it may hold only "
                    f"{', '.join(self._allowed)}; absolute paths, '..' and folders are refused)"
                )
            kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the writer set no type
            if info.is_dir() or kind not in (0, stat.S_IFREG):
                raise self._error(f"member {name!r} is not a plain file (a link or a folder)")
            if info.flag_bits & 0x1:
                raise self._error(f"member {name!r} is encrypted")
            if name in JSON_MEMBERS and info.file_size > MAX_JSON_BYTES:
                raise self._error(
                    f"member {name!r} declares {info.file_size} bytes, over the "
                    f"{MAX_JSON_BYTES}-byte limit for JSON"
                )
            if name in JSON_MEMBERS and info.compress_type not in JSON_METHODS:
                raise self._error(
                    f"member {name!r} uses compression method {info.compress_type}; JSON "
                    "members are stored or deflated"
                )
            if name in TENSOR_MEMBERS and (
                info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size
            ):
                raise self._error(f"tensor member {name!r} must be stored uncompressed")
            members[name] = info
        for required in self._required:
            if required not in members:
                raise self._error(f"it lacks {required!r}")
        return members

    def _error(self, problem: str) -> ModelFileError:
        return ModelFileError(f"{self.source} is refused: {problem}.")

    def read_json(self, name: str) -> Any:
        """A JSON member, inflated at most to its declared size (itself at most the size
        limit, checked when opening) and parsed with a depth limit and no duplicate keys."""
        info = self.members.get(name)
        if info is None:
            return None
        try:
            with self._zip.open(info) as stream:
                # Inflating stops at the declared size: an understated size ends in a
                # checksum error after at most that many bytes, never in a bomb.
                data = stream.read(info.file_size + 1)
        except Exception as err:  # zlib, zipfile and I/O errors: a damaged member
            raise self._error(f"member {name!r} cannot be read ({err})") from None
        if len(data) != info.file_size:
            raise self._error(
                f"member {name!r} inflates to {len(data)} bytes, not the {info.file_size} "
                "it declares"
            )
        try:
            value = json.loads(data.decode("utf-8"), object_pairs_hook=unique_keys)
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise self._error(f"member {name!r} is not valid JSON ({err})") from None
        if _depth(value) > MAX_JSON_DEPTH:
            raise self._error(f"member {name!r} nests deeper than {MAX_JSON_DEPTH} levels")
        return value

    def tensor_buffer(self, name: str) -> memoryview | None:
        """A stored tensor member's bytes: a view of a memory map of the file (copy-on-write,
        so arrays made from it are writable without copying), its CRC verified."""
        info = self.members.get(name)
        if info is None:
            return None
        if self._map is None:
            try:
                self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_COPY)
            except (OSError, ValueError) as err:
                raise self._error(f"it cannot be mapped into memory ({err})") from None
        total = len(self._map)
        start = info.header_offset
        if start + _LOCAL_HEADER.size > total:
            raise self._error(f"member {name!r} lies outside the file (truncated?)")
        fields = _LOCAL_HEADER.unpack_from(self._map, start)
        name_start = start + _LOCAL_HEADER.size
        if (
            fields[0] != b"PK\x03\x04"
            or fields[3] != zipfile.ZIP_STORED
            or fields[2] & 0x1
            or bytes(self._map[name_start : name_start + fields[9]]) != info.orig_filename.encode()
        ):
            # A local header that disagrees with the central directory (name, method,
            # encryption) would make readers that trust one or the other see different data.
            raise self._error(f"member {name!r} has a damaged local header")
        begin = name_start + fields[9] + fields[10]
        end = begin + info.file_size
        if end > total:
            raise self._error(
                f"member {name!r} is truncated ({total - begin} of {info.file_size} bytes present)"
            )
        view = memoryview(self._map)[begin:end]
        if zlib.crc32(view) != info.CRC:
            raise self._error(f"member {name!r} is corrupted (its checksum does not match)")
        return view

    def close(self) -> None:
        for closer in ("_zip", "_file"):
            handle = getattr(self, closer, None)
            if handle is not None:
                with contextlib.suppress(Exception):
                    handle.close()
        # The memory map stays open as long as arrays view it; it closes when collected.

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s ``object_pairs_hook``: a dict, refusing a key given twice (readers
    disagree on which one wins, so a file could mean different things to different tools).

    Raises:
        ValueError: a duplicate key.
    """
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"key {twice!r} appears twice in one object")
    return value


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level
