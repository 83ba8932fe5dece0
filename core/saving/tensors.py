"""Tensors in the safetensors layout, written and read by katman itself.

A safetensors blob is an 8-byte little-endian header length N, N bytes of JSON (each tensor:
``{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}``, plus optional
``"__metadata__"`` of strings), then the tensors' bytes back to back. Reading checks the
header completely — sizes, dtypes, shapes, offsets that tile the data exactly — before any
tensor memory is touched, so a hostile header cannot make katman allocate anything large.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping
from typing import IO, Any

import numpy as np

from katman.errors import ModelFileError
from katman.saving.archive import unique_keys

# safetensors dtype names <-> NumPy dtypes (bfloat16 is stored as its raw 16 bits).
DTYPES = {
    "F64": np.dtype("float64"),
    "F32": np.dtype("float32"),
    "F16": np.dtype("float16"),
    "I64": np.dtype("int64"),
    "I32": np.dtype("int32"),
    "I16": np.dtype("int16"),
    "I8": np.dtype("int8"),
    "U64": np.dtype("uint64"),
    "U32": np.dtype("uint32"),
    "U16": np.dtype("uint16"),
    "U8": np.dtype("uint8"),
    "BOOL": np.dtype("bool"),
    "BF16": np.dtype("uint16"),
}
CODES = {dtype: code for code, dtype in DTYPES.items() if code != "BF16"}
MAX_HEADER_BYTES = 64 * 1024 * 1024
MAX_RANK = 32


def header_for(
    arrays: Mapping[str, np.ndarray],
    metadata: Mapping[str, str] | None = None,
    bfloat16: Iterable[str] = (),
) -> bytes:
    """The length prefix and JSON header describing ``arrays`` laid out in order."""
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw16 = set(bfloat16)
    offset = 0
    for name, array in arrays.items():
        code = "BF16" if name in raw16 else CODES.get(array.dtype)
        if code is None:
            raise ValueError(f"Cannot store tensor {name!r} of dtype {array.dtype}.")
        header[name] = {
            "dtype": code,
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # keep the data 8-byte aligned
    return struct.pack("<Q", len(text)) + text


def write(
    stream: IO[bytes],
    arrays: Mapping[str, np.ndarray],
    metadata: Mapping[str, str] | None = None,
    bfloat16: Iterable[str] = (),
) -> None:
    """Write ``arrays`` (C-contiguous) to ``stream`` without concatenating them in memory."""
    # np.ascontiguousarray would turn 0-d arrays into 1-d ones.
    arrays = {name: np.asarray(array) for name, array in arrays.items()}
    arrays = {n: a if a.flags.c_contiguous else a.copy(order="C") for n, a in arrays.items()}
    stream.write(header_for(arrays, metadata, bfloat16))
    for array in arrays.values():
        if array.nbytes:
            stream.write(memoryview(array.reshape(-1)).cast("B"))


class TensorIndex:
    """The validated header of a safetensors blob held in ``buffer`` (bytes or a mmap).

    Raises:
        ModelFileError: anything malformed, naming ``source``.
    """

    def __init__(self, buffer: Any, source: str) -> None:
        self.buffer = buffer
        self.source = source
        size = len(buffer)
        if size < 8:
            raise self._error(f"it is {size} bytes long, too short for a header")
        (length,) = struct.unpack("<Q", bytes(buffer[:8]))
        if length > MAX_HEADER_BYTES or 8 + length > size:
            raise self._error(f"its header claims {length} bytes but the data has {size - 8}")
        try:
            header = json.loads(
                bytes(buffer[8 : 8 + length]).decode("utf-8"), object_pairs_hook=unique_keys
            )
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise self._error(f"its header is not valid JSON ({err})") from None
        if not isinstance(header, dict):
            raise self._error("its header is not a JSON object")
        metadata = header.pop("__metadata__", {})
        if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
        ):
            raise self._error("its __metadata__ must map strings to strings")
        self.metadata: dict[str, str] = metadata
        self.start = 8 + length
        data_size = size - self.start
        self.entries: dict[str, tuple[str, tuple[int, ...], int, int]] = {}
        spans = []
        for name, entry in header.items():
            dtype, shape, (begin, end) = self._check_entry(name, entry, data_size)
            self.entries[name] = (dtype, shape, begin, end)
            spans.append((begin, end, name))
        spans.sort()
        position = 0
        for begin, end, name in spans:
            if begin != position:
                raise self._error(f"tensor {name!r} does not start where the previous one ends")
            position = end
        if position != data_size:
            raise self._error(
                f"the tensors cover {position} bytes but the data region has {data_size}"
            )

    def _check_entry(self, name: str, entry: Any, data_size: int) -> tuple:
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise self._error(f"tensor {name!r} must have exactly dtype, shape, data_offsets")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in DTYPES:
            raise self._error(f"tensor {name!r} has unknown dtype {dtype!r}")
        if (
            not isinstance(shape, list)
            or len(shape) > MAX_RANK
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        ):
            raise self._error(f"tensor {name!r} has an invalid shape {shape!r}")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_size
        ):
            raise self._error(f"tensor {name!r} has data offsets {offsets!r} outside the data")
        count = 1
        for dim in shape:
            count *= dim  # Python ints: no overflow, and compared before any allocation
        if count * DTYPES[dtype].itemsize != offsets[1] - offsets[0]:
            raise self._error(
                f"tensor {name!r} of shape {shape} and dtype {dtype} needs "
                f"{count * DTYPES[dtype].itemsize} bytes, its offsets span "
                f"{offsets[1] - offsets[0]}"
            )
        return dtype, tuple(shape), offsets

    def _error(self, problem: str) -> ModelFileError:
        return ModelFileError(f"{self.source} is not a valid safetensors blob: {problem}.")

    def names(self) -> list[str]:
        return list(self.entries)

    def spec(self, name: str) -> tuple[str, tuple[int, ...]]:
        dtype, shape, _, _ = self.entries[name]
        return dtype, shape

    def array(self, name: str) -> np.ndarray:
        """The tensor as a NumPy view of the buffer (no copy); BF16 comes as raw uint16."""
        dtype, shape, begin, end = self.entries[name]
        numpy_dtype = DTYPES[dtype]
        count = (end - begin) // numpy_dtype.itemsize
        return np.frombuffer(self.buffer, numpy_dtype, count, self.start + begin).reshape(shape)
