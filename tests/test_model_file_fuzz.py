"""Fuzzing the ``.katman`` reader: valid files (a Sequential model, a functional one with a
skip connection and optimizer state, a compiled one without optimizer state) are truncated,
flipped, and have their JSON members and safetensors headers edited; then loaded.

The only acceptable outcomes are katman's ModelFileError, or a complete model: built, every
variable holding exactly the tensor the file stores for it (so nothing is left half-assigned),
and predicting as the original did when the architecture and weights were not touched. Any
other exception fails the test, and so does a load that takes longer than ``TIME_LIMIT``.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import signal
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import note as hypothesis_note
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import katman
from katman import layers
from katman.errors import ModelFileError
from katman.saving import tensors
from katman.saving.archive import Archive
from katman.saving.model_file import (
    OPTIMIZER,
    WEIGHTS,
    model_variables,
    optimizer_variables,
)

TIME_LIMIT = 60  # seconds for one load; the slowest valid load here takes well under one
EXAMPLES = settings(max_examples=60, deadline=None)
_names = itertools.count()


class Hang(BaseException):
    """A load ran past TIME_LIMIT (a BaseException, so that no ``except Exception`` in the
    code under test can turn it into a ModelFileError)."""


@contextlib.contextmanager
def time_limit() -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"loading took more than {TIME_LIMIT} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TIME_LIMIT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def note(text: str) -> None:
    """Record ``text`` for the failing example's report (a no-op outside hypothesis)."""
    with contextlib.suppress(InvalidArgument):
        hypothesis_note(text)


# -- the valid files ----------------------------------------------------------------------------
def _sequential() -> tuple[katman.Model, tuple[int, ...]]:
    model = katman.Sequential(
        [
            layers.Input((5,)),
            layers.Dense(4, activation="relu", name="hidden"),
            layers.Dropout(0.25, name="drop"),
            layers.Dense(3, name="out"),
        ],
        name="plain",
    )
    return model, (5,)


def _functional_skip() -> tuple[katman.Model, tuple[int, ...]]:
    inputs = katman.Input((4,), name="x")
    first = layers.Dense(6, activation="tanh", name="first")(inputs)
    second = layers.Dense(6, name="second")(first)
    joined = layers.Add(name="skip")([first, second])
    normal = layers.BatchNormalization(name="norm")(joined)
    outputs = layers.Dense(2, name="head")(normal)
    model = katman.Model(inputs, outputs, name="skipper")
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x = np.linspace(-1, 1, 32, dtype="float32").reshape(8, 4)
    model.fit(x, x[:, :2], epochs=1, batch_size=4, verbose=0)
    return model, (4,)


def _compiled_untrained() -> tuple[katman.Model, tuple[int, ...]]:
    model = katman.Sequential(
        [layers.Input((3,)), layers.LayerNormalization(name="ln"), layers.Dense(2, name="d")],
        name="compiled",
    )
    model.compile(optimizer=katman.optimizers.SGD(0.1, momentum=0.9), loss="mae")
    return model, (3,)


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("bases")
    found = {}
    for name, make in (
        ("sequential", _sequential),
        ("functional-skip", _functional_skip),
        ("compiled-untrained", _compiled_untrained),
    ):
        model, shape = make()
        path = folder / f"{name}.katman"
        model.save(path)
        data = path.read_bytes()
        x = np.linspace(-2, 2, 2 * int(np.prod(shape)), dtype="float32").reshape(2, *shape)
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: archive.read(info) for info in archive.infolist()}
        found[name] = {
            "data": data,
            "members": members,
            "x": x,
            "y": model.predict(x, verbose=0),
            "target": make()[0],  # a model of the same architecture, for load_weights
        }
    assert OPTIMIZER in found["functional-skip"]["members"]
    assert OPTIMIZER not in found["compiled-untrained"]["members"]
    assert "compile.json" not in found["sequential"]["members"]
    return found


BASE_NAMES = st.sampled_from(["sequential", "functional-skip", "compiled-untrained"])


# -- what a load may end in -------------------------------------------------------------------------
def _read_members(path: Path) -> dict[str, bytes] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist()}
    except Exception:
        return None


def _stored(buffer: Any, source: str) -> tensors.TensorIndex:
    return tensors.TensorIndex(buffer, source)


def _assert_holds(variables: dict[str, Any], index: tensors.TensorIndex) -> None:
    """Every variable has its stored tensor's shape and value: nothing half-assigned."""
    assert set(variables) == set(index.names())
    for key, variable in variables.items():
        code, shape = index.spec(key)
        assert tuple(variable.shape) == shape, key
        if code != "BF16":
            np.testing.assert_array_equal(variable.numpy(), index.array(key), err_msg=key)


def check_load(path: Path, base: dict[str, Any]) -> str:
    """Load ``path``: refused, or a complete model. Returns which."""
    with time_limit():
        try:
            model = katman.models.load_model(path)
        except ModelFileError as err:
            assert str(path) in str(err)
            note(f"refused: {str(err)[:300]}")
            return "refused"
    assert isinstance(model, katman.Model) and model.built
    with Archive(path) as archive:
        _assert_holds(model_variables(model), _stored(archive.tensor_buffer(WEIGHTS), "weights"))
        state = archive.tensor_buffer(OPTIMIZER)
        if state is not None and model.compiled:
            _assert_holds(optimizer_variables(model.optimizer), _stored(state, "optimizer"))
    members = _read_members(path)
    if members is not None and all(
        members.get(name) == base["members"][name] for name in ("config.json", WEIGHTS)
    ):
        np.testing.assert_allclose(model.predict(base["x"], verbose=0), base["y"], rtol=1e-6)
    note("loaded")
    return "loaded"


def check_load_weights(path: Path, base: dict[str, Any]) -> str:
    """``load_weights`` of a weights-only file: refused with nothing assigned, or all of it."""
    target = base["target"]
    before = [w.numpy().copy() for w in target.weights]
    with time_limit():
        try:
            target.load_weights(path)
        except ModelFileError:
            for kept, now in zip(before, target.weights, strict=True):
                np.testing.assert_array_equal(kept, now.numpy())
            return "refused"
    _assert_holds(model_variables(target), _stored(np.fromfile(path, np.uint8), "weights file"))
    return "loaded"


def write(folder: Path, data: bytes, suffix: str = ".katman") -> Path:
    path = folder / f"fuzzed{next(_names)}{suffix}"
    path.write_bytes(data)
    return path


def zip_of(members: dict[str, bytes]) -> bytes:
    """Members zipped as katman writes them: JSON deflated, tensors stored."""
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        for name, data in members.items():
            method = zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
            archive.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data, method)
    return stream.getvalue()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzzed")


# -- 1. truncation ----------------------------------------------------------------------------------
@EXAMPLES
@given(name=BASE_NAMES, data=st.data())
def test_truncated_files(name, data, bases, folder):
    base = bases[name]
    cut = data.draw(st.integers(0, len(base["data"]) - 1), label="cut")
    path = write(folder, base["data"][:cut])
    assert check_load(path, base) == "refused"
    path.unlink()


# -- 2. byte flips ------------------------------------------------------------------------------------
@EXAMPLES
@given(name=BASE_NAMES, data=st.data())
def test_flipped_bytes(name, data, bases, folder):
    base = bases[name]
    size = len(base["data"])
    flips = data.draw(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(1, 255)), min_size=1, max_size=4),
        label="flips",
    )
    mutated = bytearray(base["data"])
    for offset, mask in flips:
        mutated[offset] ^= mask
    path = write(folder, bytes(mutated))
    check_load(path, base)
    path.unlink()


# -- 3. edited JSON members ----------------------------------------------------------------------------
def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


# Values a hostile or careless writer might put anywhere. Numbers are either small or far past
# any memory (10**12 and up), so that no example makes the loader allocate a few gigabytes.
NASTY = st.sampled_from(
    [
        None, True, False, 0, -1, 1, 3, 10**12, 2**63, -(2**63), 10**30, 1.5, 1e308, -1e308,
        float("nan"), float("inf"), "", "relu", "Dense", "zeros", "float64", "os.system",
        "/etc/passwd", "https://example.invalid/x", "x" * 1000, [], {}, [1, 2], [None, 3],
        [None, 10**12], {"class_name": "Dense", "config": {"units": 2}},
        {"class_name": "function", "registered_name": "builtins>eval", "config": "eval"},
        {"__tensor__": ["x", 0, 0]}, {"__tensor__": [None, -1, 10**12]},
        _nested(150), _nested(500),
    ]
)  # fmt: skip


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _edit(document: Any, path: tuple, operation: str, value: Any) -> Any:
    if not path:
        return value if operation in ("replace", "delete") else [document, value]
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if operation == "replace":
        parent[key] = value
    elif operation == "delete":
        del parent[key]
    elif operation == "add-key" and isinstance(parent[key], dict):
        parent[key]["unexpected_key"] = value
    elif operation == "duplicate" and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(parent[key])))
    elif operation == "wrap":
        parent[key] = [parent[key]]
    elif operation == "stringify":
        parent[key] = json.dumps(parent[key])
    else:
        parent[key] = value
    return document


@EXAMPLES
@given(name=BASE_NAMES, data=st.data())
def test_edited_json_members(name, data, bases, folder):
    base = bases[name]
    members = dict(base["members"])
    member = data.draw(
        st.sampled_from([m for m in ("config.json", "config.json", "compile.json", "metadata.json") if m in members]),
        label="member",
    )  # fmt: skip
    document = json.loads(members[member])
    paths = _paths(document)
    path = paths[data.draw(st.integers(0, len(paths) - 1), label="path index")]
    operation = data.draw(
        st.sampled_from(["replace", "replace", "delete", "add-key", "duplicate", "wrap", "stringify"]),
        label="operation",
    )  # fmt: skip
    value = data.draw(NASTY, label="value")
    note(f"{member} at {path}: {operation} {str(value)[:80]}")
    members[member] = json.dumps(_edit(document, path, operation, value)).encode()
    path_on_disk = write(folder, zip_of(members))
    check_load(path_on_disk, base)
    path_on_disk.unlink()


# -- 4. edited safetensors headers ----------------------------------------------------------------------
DTYPES = st.sampled_from(["F64", "F32", "F16", "BF16", "I64", "I32", "I8", "U8", "BOOL", "O", "F8_E4M3", "", 7, None])  # fmt: skip
SHAPE_EDITS = st.sampled_from(
    ["reverse", "append-1", "drop-last", "zero", "huge", "negative", "string", "overflow", "rank-40", "scalar", "null"]
)  # fmt: skip
OFFSET_EDITS = st.sampled_from(
    ["shift", "swap", "huge", "negative", "string", "short", "null", "float"]
)
LENGTH_EDITS = st.sampled_from(["zero", "one", "seven", "minus-one", "plus-one", "plus-eight", "2**63", "2**64-1", "whole"])  # fmt: skip


def _shape(shape: list, edit: str) -> Any:
    return {
        "reverse": shape[::-1],
        "append-1": [*shape, 1],
        "drop-last": shape[:-1],
        "zero": [0],
        "huge": [10**12, 10**12],
        "negative": [-1, *shape[1:]],
        "string": ["a"],
        "overflow": [2**64, 2**64],
        "rank-40": [1] * 40,
        "scalar": [],
        "null": None,
    }[edit]


def _offsets(offsets: list, edit: str) -> Any:
    begin, end = offsets
    return {
        "shift": [begin + 4, end + 4],
        "swap": [end, begin],
        "huge": [0, 10**15],
        "negative": [begin - 8, end],
        "string": [str(begin), end],
        "short": [begin],
        "null": None,
        "float": [float(begin), float(end)],
    }[edit]


def _edit_header(blob: bytes, data: Any) -> bytes:
    (length,) = struct.unpack("<Q", blob[:8])
    header, payload = json.loads(blob[8 : 8 + length]), blob[8 + length :]
    names = [n for n in header if n != "__metadata__"]
    kind = data.draw(
        st.sampled_from(["dtype", "shape", "offsets", "remove", "rename", "copy", "metadata", "length", "garbage", "reorder"]),
        label="header edit",
    )  # fmt: skip
    if names:
        name = data.draw(st.sampled_from(names), label="tensor")
    else:  # an optimizer or model without state: edit the metadata instead
        name, kind = None, "metadata" if kind not in ("length", "garbage") else kind
    text: bytes | None = None
    if kind == "dtype":
        header[name]["dtype"] = data.draw(DTYPES, label="dtype")
    elif kind == "shape":
        header[name]["shape"] = _shape(header[name]["shape"], data.draw(SHAPE_EDITS, label="shape"))
    elif kind == "offsets":
        header[name]["data_offsets"] = _offsets(
            header[name]["data_offsets"], data.draw(OFFSET_EDITS, label="offsets")
        )
    elif kind == "remove":
        del header[name]
    elif kind == "rename":
        header[name + "x"] = header.pop(name)
    elif kind == "copy":
        header[name + "/copy"] = dict(header[name])
    elif kind == "metadata":
        header["__metadata__"] = data.draw(
            st.sampled_from([{"format": 3}, "x", None, [], {"a": "b"}]), label="metadata"
        )
    elif kind == "reorder":
        header = dict(reversed(list(header.items())))
    elif kind == "garbage":
        text = data.draw(st.sampled_from([b"", b"[]", b"null", b"{", b"\xff\xfe", b'{"a": 1}', json.dumps(_nested(300)).encode()]), label="garbage")  # fmt: skip
    if text is None:
        text = json.dumps(header).encode()
    prefix = struct.pack("<Q", len(text))
    if kind == "length":
        edit = data.draw(LENGTH_EDITS, label="length")
        value = {
            "zero": 0, "one": 1, "seven": 7, "minus-one": len(text) - 1, "plus-one": len(text) + 1,
            "plus-eight": len(text) + 8, "2**63": 2**63, "2**64-1": 2**64 - 1, "whole": len(text) + len(payload),
        }[edit]  # fmt: skip
        prefix = struct.pack("<Q", max(value, 0))
    return prefix + text + payload


@EXAMPLES
@given(name=BASE_NAMES, data=st.data())
def test_edited_safetensors_headers(name, data, bases, folder):
    base = bases[name]
    members = dict(base["members"])
    member = data.draw(
        st.sampled_from([m for m in (WEIGHTS, WEIGHTS, OPTIMIZER) if m in members]), label="member"
    )
    edited = _edit_header(members[member], data)
    members[member] = edited
    path = write(folder, zip_of(members))
    check_load(path, base)
    path.unlink()
    if member == WEIGHTS:  # the same blob as a weights-only file
        path = write(folder, edited, ".weights.safetensors")
        check_load_weights(path, base)
        path.unlink()


def test_the_unchanged_files_load(bases, folder):
    """The harness itself: each base file, rezipped untouched, loads and predicts as saved."""
    for base in bases.values():
        for data in (base["data"], zip_of(base["members"])):
            path = write(folder, data)
            assert check_load(path, base) == "loaded"
        path = write(folder, base["members"][WEIGHTS], ".weights.safetensors")
        assert check_load_weights(path, base) == "loaded"
