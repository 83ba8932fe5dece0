"""The safety promises of the ``.katman`` format (docs/file-format.md, "Safety"), one test
each: hand-made malicious, damaged or inconsistent files are refused with ModelFileError, and
loading them runs nothing, imports nothing, reads no other file and allocates nothing large.

The archives are built byte by byte here (``raw_zip``), so that each test controls exactly
what a hostile writer controls: member names, declared sizes, checksums, file types.
"""

from __future__ import annotations

import base64
import copy
import json
import marshal
import os
import pickle
import stat
import struct
import sys
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

import katman
from katman import layers
from katman.errors import ModelFileError
from katman.registry import get_registry

# -- watching what loading does ---------------------------------------------------------------
# Audit hooks cannot be removed, so one hook records into _RECORDING while a test watches.
_RECORDING: list[tuple[str, tuple]] | None = None
# Events that mean code ran, a process started, a module was unpickled or the network was used.
FORBIDDEN_EVENTS = {
    "exec",
    "compile",
    "marshal.loads",
    "pickle.find_class",
    "os.system",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "os.fork",
    "os.forkpty",
    "subprocess.Popen",
    "ctypes.dlopen",
    "ctypes.cdata",
    "urllib.Request",
    "socket.connect",
    "socket.getaddrinfo",
    "webbrowser.open",
    "shutil.rmtree",
    "os.remove",
    "os.rename",
    "os.mkdir",
}
# Modules loading may import lazily: katman's own (registered objects load on first use) and
# the frameworks'. Anything else (os, subprocess, a module a config names) is a breach.
ALLOWED_IMPORTS = ("katman", "numpy", "torch", "jax", "jaxlib", "tensorflow", "ml_dtypes")


def _audit(event: str, args: tuple) -> None:
    if _RECORDING is not None and (
        event in FORBIDDEN_EVENTS or event in ("open", "import", "mmap.__new__")
    ):
        _RECORDING.append((event, args))


sys.addaudithook(_audit)


@contextmanager
def watched(model_file: Path) -> Iterator[list[tuple[str, tuple]]]:
    """Record the audit events of the block; then check that nothing forbidden happened and
    that the only file opened was ``model_file``."""
    global _RECORDING
    events: list[tuple[str, tuple]] = []
    _RECORDING = events
    try:
        yield events
    finally:
        _RECORDING = None
    imports = [e[1][0] for e in events if e[0] == "import"]
    assert all(str(m).split(".")[0] in ALLOWED_IMPORTS for m in imports), imports
    # Importing one of those modules compiles and runs its own code, from its own folder.
    roots = _package_roots() if imports else ()
    breaches = [
        e
        for e in events
        if e[0] in FORBIDDEN_EVENTS
        and not (e[0] in ("exec", "compile") and _inside(_code_file(e), roots))
    ]
    assert not breaches, breaches
    opened = [e[1][0] for e in events if e[0] == "open"]
    assert all(os.fspath(p) == os.fspath(model_file) or _inside(p, roots) for p in opened), opened


def _package_roots() -> tuple[str, ...]:
    roots = set()
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ALLOWED_IMPORTS:
            roots.update(
                os.path.realpath(p) + os.sep for p in getattr(module, "__path__", None) or ()
            )
    return tuple(roots)


def _code_file(event: tuple[str, tuple]) -> str:
    name, args = event
    if name == "exec":
        return getattr(args[0], "co_filename", "")
    return args[1] if name == "compile" and len(args) > 1 else ""


def _inside(path, roots: tuple[str, ...]) -> bool:
    return isinstance(path, (str, os.PathLike)) and os.path.realpath(path).startswith(roots)


@pytest.fixture(scope="module", autouse=True)
def _objects_for_models_loaded() -> None:
    """Import every registered object a model file can name, so that loads import nothing."""
    registry = get_registry()
    for kind in MODEL_KINDS:
        for entry in registry.entries(kind):
            entry.load()


def refused(path: Path, match: str | None = None, **kwargs) -> ModelFileError:
    """Load ``path`` under watch; it must raise ModelFileError (matching ``match``)."""
    with watched(path), pytest.raises(ModelFileError, match=match) as info:
        katman.models.load_model(path, **kwargs)
    return info.value


# -- zip files byte by byte --------------------------------------------------------------------
@dataclass
class Member:
    name: bytes
    payload: bytes  # the bytes as they lie in the file (compressed or not)
    method: int
    crc: int
    compress_size: int
    file_size: int
    external_attr: int = (stat.S_IFREG | 0o644) << 16
    flags: int = 0


def stored(name: str, data: bytes) -> Member:
    return Member(name.encode(), data, 0, zlib.crc32(data), len(data), len(data))


def deflated(name: str, data: bytes) -> Member:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = packer.compress(data) + packer.flush()
    return Member(name.encode(), payload, 8, zlib.crc32(data), len(payload), len(data))


def raw_zip(members: list[Member]) -> bytes:
    """A zip archive with exactly these members, headers written by hand (zip64 extra fields
    where a declared size needs them)."""
    body, central = bytearray(), bytearray()
    for m in members:
        big = m.file_size >= 0xFFFFFFFF or m.compress_size >= 0xFFFFFFFF
        extra = struct.pack("<HHQQ", 1, 16, m.file_size, m.compress_size) if big else b""
        sizes = (0xFFFFFFFF, 0xFFFFFFFF) if big else (m.compress_size, m.file_size)
        offset = len(body)
        body += struct.pack(
            "<4sHHHHHLLLHH", b"PK\x03\x04", 45, m.flags, m.method, 0, 0x21,
            m.crc, *sizes, len(m.name), len(extra),
        )  # fmt: skip
        body += m.name + extra + m.payload
        central += struct.pack(
            "<4sBBBBHHHHLLLHHHHHLL", b"PK\x01\x02", 45, 3, 45, 0, m.flags, m.method, 0, 0x21,
            m.crc, *sizes, len(m.name), len(extra), 0, 0, 0, m.external_attr, offset,
        )  # fmt: skip
        central += m.name + extra
    end = struct.pack(
        "<4sHHHHLLH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), len(body), 0
    )
    return bytes(body + central + end)


def safetensors(tensors: dict[str, tuple[str, list, bytes]], header_extra: dict | None = None):
    """A safetensors blob from ``{name: (dtype code, shape, raw bytes)}``, laid out in order."""
    header, data = dict(header_extra or {}), b""
    for name, (code, shape, raw) in tensors.items():
        header[name] = {
            "dtype": code,
            "shape": shape,
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def read_safetensors(blob: bytes) -> tuple[dict, bytes]:
    (length,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8 : 8 + length]), blob[8 + length :]


def tensors_of(blob: bytes) -> dict[str, tuple[str, list, bytes]]:
    header, data = read_safetensors(blob)
    header.pop("__metadata__", None)
    return {
        name: (e["dtype"], e["shape"], data[e["data_offsets"][0] : e["data_offsets"][1]])
        for name, e in header.items()
    }


# -- a valid model file to start from -------------------------------------------------------------
def small_model(train: bool = False) -> katman.Model:
    """The architecture every file here describes (trained only for the original: a fresh
    one is all ``load_weights`` needs)."""
    model = katman.Sequential(
        [
            layers.Input((3,)),
            layers.Dense(4, activation="relu", name="dense"),
            layers.Dense(2, name="dense_1"),
        ],
        name="small",
    )
    if train:
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        x = np.linspace(-1, 1, 24, dtype="float32").reshape(8, 3)
        model.fit(x, x[:, :2], epochs=1, batch_size=4, verbose=0)
    return model


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The members of a valid file (every member present) and the model's predictions."""
    folder = tmp_path_factory.mktemp("original")
    model = small_model(train=True)
    model.save(folder / "small.katman")
    with zipfile.ZipFile(folder / "small.katman") as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    assert sorted(members) == sorted(
        ["metadata.json", "config.json", "compile.json", "model.weights.safetensors",
         "optimizer.safetensors"]
    )  # fmt: skip
    x = np.linspace(0, 1, 6, dtype="float32").reshape(2, 3)
    return {"members": members, "x": x, "y": model.predict(x, verbose=0)}


def members_of(original: dict, **changes: bytes | None) -> dict[str, bytes]:
    """The original members with some replaced (``None`` removes one); dots in member names
    are written as ``__`` in the keywords: ``config__json=...``."""
    members = dict(original["members"])
    for key, value in changes.items():
        name = key.replace("__", ".")
        if value is None:
            members.pop(name)
        else:
            members[name] = value
    return members


def pack(members: dict[str, bytes]) -> list[Member]:
    return [
        (deflated if name.endswith(".json") else stored)(name, data)
        for name, data in members.items()
    ]


def write(tmp_path: Path, data: bytes, name: str = "model.katman") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def with_config(original: dict, config: dict) -> dict[str, bytes]:
    return members_of(original, config__json=json.dumps(config).encode())


def config_of(original: dict) -> dict:
    return json.loads(original["members"]["config.json"])


def test_the_hand_built_original_loads(original, tmp_path):
    """The helpers above write a file katman accepts: what the other tests change is all
    that makes theirs fail."""
    path = write(tmp_path, raw_zip(pack(members_of(original))))
    with watched(path):
        model = katman.models.load_model(path)
    np.testing.assert_allclose(model.predict(original["x"], verbose=0), original["y"], rtol=1e-6)
    assert model.optimizer.iterations.numpy() == 2


# -- 1. a config naming arbitrary modules, classes or functions --------------------------------------
GADGET_MODULE = "gadget_probe_module"


@pytest.fixture
def gadget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable module whose import, and whose every function, leaves a marker file: if a
    config could make katman import or call anything it names, a marker would appear."""
    markers = tmp_path / "markers"
    markers.mkdir()
    source = f"""
import pathlib
MARKERS = pathlib.Path({str(markers)!r})
(MARKERS / "imported").write_text("x")
def run(*args, **kwargs):
    (MARKERS / "called").write_text("x")
    return 0
class Layer:
    def __init__(self, *args, **kwargs):
        run()
    @classmethod
    def from_config(cls, config):
        return cls()
"""
    (tmp_path / f"{GADGET_MODULE}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield markers
    sys.modules.pop(GADGET_MODULE, None)
    assert not list(markers.iterdir()), "the gadget module was imported or called"


ARBITRARY_NAMES = [
    {"class_name": "os.system", "config": {"command": "touch pwned"}},
    {"class_name": "system", "module": "os", "registered_name": None, "config": "touch pwned"},
    {"class_name": "function", "registered_name": "builtins>eval", "config": "__import__('os')"},
    {"class_name": "function", "module": "builtins", "registered_name": "eval", "config": "eval"},
    {"class_name": "Popen", "module": "subprocess", "config": {"args": ["touch", "pwned"]}},
    {"class_name": "function", "registered_name": f"{GADGET_MODULE}>run", "config": "run"},
    {"class_name": "function", "registered_name": f"{GADGET_MODULE}.run", "config": "run"},
    {"class_name": "function", "registered_name": f"{GADGET_MODULE}:run", "config": "run"},
    {"class_name": "Layer", "module": GADGET_MODULE, "registered_name": None, "config": {}},
    {"class_name": f"{GADGET_MODULE}.Layer", "config": {}},
    {"class_name": "Layer", "registered_name": f"{GADGET_MODULE}>Layer", "config": {}},
    {"class_name": "Dense", "registered_name": f"{GADGET_MODULE}:Layer", "config": {"units": 2}},
    {"class_name": "type", "registered_name": "builtins>type", "config": {}},
    {"class_name": "__import__", "config": {"name": GADGET_MODULE}},
]


@pytest.mark.parametrize(
    "named", ARBITRARY_NAMES, ids=lambda c: str(c.get("registered_name") or c["class_name"])
)
def test_a_config_naming_a_module_class_or_function_runs_nothing(named, original, gadget, tmp_path):
    """As the model itself, as one of its layers, and as a layer's initializer, activation
    and regularizer: every name resolves through the registry only, so none of these is
    imported or called."""
    config = config_of(original)
    as_layer = copy.deepcopy(config)
    as_layer["config"]["layers"][1] = named
    slots = [named, as_layer]
    for key in ("kernel_initializer", "activation", "kernel_regularizer", "kernel_constraint"):
        changed = copy.deepcopy(config)
        changed["config"]["layers"][1]["config"][key] = named
        slots.append(changed)
    for number, candidate in enumerate(slots):
        path = write(tmp_path, raw_zip(pack(with_config(original, candidate))), f"{number}.katman")
        refused(path)
    assert GADGET_MODULE not in sys.modules


def test_a_registered_object_that_is_not_a_model_is_refused(original, tmp_path):
    """``"class_name": "function"`` hands back a registered object without calling it; a
    layer class, a layer, or a function in place of the model is refused, not used."""
    for config in (
        {"class_name": "function", "registered_name": "Sequential", "config": "Sequential"},
        {"class_name": "function", "registered_name": "Dense", "config": "Dense"},
        {"class_name": "Dense", "registered_name": "Dense", "config": {"units": 2}},
        {"class_name": "function", "registered_name": "relu", "config": "relu"},
    ):
        path = write(tmp_path, raw_zip(pack(with_config(original, config))))
        refused(path)


# -- 2. registered, side-effecting gadgets -----------------------------------------------------------
# katman (and Keras) utilities that change settings, seed generators, read or write files, load
# models or plugins: none is an object made for models, so none may resolve in a model config.
SIDE_EFFECTING = [
    "set_random_seed",
    "set_floatx",
    "set_epsilon",
    "set_image_data_format",
    "read_config_file",
    "get_file",
    "enable_unsafe_deserialization",
    "load_model",
    "save_model",
    "load_weights",
    "register_plugin",
    "register_serializable",
    "CSVLogger",
    "LambdaCallback",
    "ModelCheckpoint",
    "BackupAndRestore",
    "load_data",
    "system",
    "open",
]
# The registry kinds a model file's JSON resolves names in.
MODEL_KINDS = (
    "layer", "activation", "initializer", "regularizer", "constraint",
    "loss", "metric", "optimizer", "schedule", "function", "op",
)  # fmt: skip


def test_side_effecting_utilities_are_not_registered_for_models():
    registry = get_registry()
    for kind in MODEL_KINDS:
        for name in SIDE_EFFECTING:
            assert registry.find(kind, name) is None, (kind, name)
        for entry in registry.entries(kind):  # nothing made for files, settings or plugins
            assert not entry.path.startswith(
                ("katman.config", "katman.saving", "katman.registry", "katman.utils",
                 "katman.callbacks", "katman.datasets", "os", "builtins", "subprocess")
            ), entry.path  # fmt: skip


def _gadget_slots(config: dict, compile_settings: dict, name: str) -> list[tuple[dict, dict]]:
    """(config, compile settings) pairs with ``name`` in each place a model file names an
    object: as a bare name and as a serialized function or class."""
    forms = [name, {"class_name": "function", "registered_name": name, "config": name},
             {"class_name": name, "registered_name": name, "config": {"filename": "x.csv"}}]  # fmt: skip
    found = []
    for form in forms:
        layer = copy.deepcopy(config)
        layer["config"]["layers"][1] = (
            form if isinstance(form, dict) else {"class_name": form, "config": {}}
        )
        found.append((layer, compile_settings))
        for key in ("activation", "kernel_initializer", "bias_regularizer", "kernel_constraint"):
            changed = copy.deepcopy(config)
            changed["config"]["layers"][1]["config"][key] = form
            found.append((changed, compile_settings))
        for kind in ("function", "activation", "op"):
            changed = copy.deepcopy(config)
            function = (
                form
                if isinstance(form, dict)
                else {"class_name": "function", "registered_name": form}
            )
            changed["config"]["layers"][1] = {
                "class_name": "Lambda",
                "config": {"name": "gadget", "function": {"kind": kind, **function}, "arguments": {"seed": 1}},
            }  # fmt: skip
            found.append((changed, compile_settings))
        for key in ("optimizer", "loss", "metrics"):
            settings = dict(compile_settings)
            settings[key] = [form] if key == "metrics" else form
            found.append((config, settings))
        settings = copy.deepcopy(compile_settings)
        settings["optimizer"]["config"]["learning_rate"] = form
        found.append((config, settings))
    return found


@pytest.mark.parametrize(
    "name",
    [
        "set_random_seed",
        "set_floatx",
        "set_epsilon",
        "CSVLogger",
        "ModelCheckpoint",
        "get_file",
        "load_model",
    ],
)
def test_a_side_effecting_name_is_refused_in_every_slot(name, original, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a CSVLogger or a checkpoint would write
    before = (
        katman.config.floatx(), katman.config.epsilon(), katman.config.image_data_format(),
        np.random.get_state()[1].tobytes(),
    )  # fmt: skip
    config = config_of(original)
    settings = json.loads(original["members"]["compile.json"])
    for number, (changed, compile_settings) in enumerate(_gadget_slots(config, settings, name)):
        members = with_config(original, changed)
        members["compile.json"] = json.dumps(compile_settings).encode()
        path = write(tmp_path, raw_zip(pack(members)), f"{number}.katman")
        refused(path)
    after = (
        katman.config.floatx(), katman.config.epsilon(), katman.config.image_data_format(),
        np.random.get_state()[1].tobytes(),
    )  # fmt: skip
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{i}.katman" for i in range(number + 1)
    )


# -- 3. code carried in the file: Lambda -----------------------------------------------------------
def test_saving_a_lambda_with_an_unregistered_function_says_so(tmp_path):
    model = katman.Sequential([layers.Input((3,)), layers.Lambda(lambda x: x * 2.0, name="double")])
    with pytest.raises(ValueError, match=r"(?s)'double'.*not registered.*register_serializable"):
        model.save(tmp_path / "lambda.katman")
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary left


def test_a_lambda_with_a_registered_function_round_trips(tmp_path):
    model = katman.Sequential([layers.Input((3,)), layers.Lambda(katman.ops.square)])
    model.save(tmp_path / "square.katman")
    with watched(tmp_path / "square.katman"):
        loaded = katman.models.load_model(tmp_path / "square.katman")
    x = np.array([[1.0, -2.0, 3.0]], "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), x**2)


def _keras_style_lambda() -> dict:
    """A Lambda as Keras writes one: the function's bytecode, marshalled and base64-encoded."""
    code = marshal.dumps((lambda x: __import__("os").system("touch pwned")).__code__)
    return {
        "class_name": "__lambda__",
        "config": {"code": base64.b64encode(code).decode(), "defaults": None, "closure": None},
    }


@pytest.mark.parametrize(
    "function",
    [
        {"kind": "function", "class_name": "function", "registered_name": "Custom>not_registered"},
        {"kind": "function", "class_name": "function", "registered_name": f"{GADGET_MODULE}>run"},
        {"kind": "op", "class_name": "function", "registered_name": "os.system"},
        {"kind": "activation", "class_name": "function", "registered_name": "builtins>exec"},
        {"kind": "function", **_keras_style_lambda()},
        _keras_style_lambda(),
        "lambda x: x",
        base64.b64encode(marshal.dumps((lambda x: x).__code__)).decode(),
    ],
    ids=[
        "unregistered",
        "gadget",
        "module-path",
        "builtin",
        "keras-bytecode",
        "bytecode-no-kind",
        "source",
        "bare-bytecode",
    ],
)
def test_a_lambda_naming_an_unregistered_function_is_refused(function, original, gadget, tmp_path):
    config = config_of(original)
    config["config"]["layers"][1] = {
        "class_name": "Lambda",
        "registered_name": "Lambda",
        "config": {"name": "code", "function": function, "output_shape": None, "arguments": {}},
    }
    path = write(tmp_path, raw_zip(pack(with_config(original, config))))
    refused(path, match="Unknown|Lambda")


# -- 4. configs pointing at local paths or URLs --------------------------------------------------------
@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]")  # would even parse as a weight
    return path


def _path_slots(config: dict, target: str) -> list[dict]:
    found = []

    def changed(edit) -> None:
        candidate = copy.deepcopy(config)
        edit(candidate["config"]["layers"])
        found.append(candidate)

    dense = lambda ls: ls[1]["config"]  # noqa: E731
    changed(lambda ls: dense(ls).update(kernel_initializer=target))
    changed(
        lambda ls: dense(ls).update(
            kernel_initializer={"class_name": "Constant", "config": {"value": target}}
        )
    )
    changed(lambda ls: dense(ls).update(weights=target))
    changed(lambda ls: dense(ls).update(dtype=target))
    changed(lambda ls: dense(ls).update(activation=target))
    changed(
        lambda ls: dense(ls).update(
            kernel_regularizer={"class_name": "L2", "config": {"l2": target}}
        )
    )
    changed(lambda ls: ls[0]["config"].update(batch_shape=target))
    changed(
        lambda ls: ls.__setitem__(
            1,
            {
                "class_name": "Embedding",
                "config": {"input_dim": 3, "output_dim": 2, "embeddings_initializer": target},
            },
        )
    )
    changed(
        lambda ls: ls.__setitem__(
            1, {"class_name": target, "registered_name": target, "config": {}}
        )
    )
    whole = copy.deepcopy(config)
    whole["build_config"] = {"input_shape": target}
    whole["config"]["layers"] = target
    found.append(whole)
    return found


@pytest.mark.parametrize("kind", ["absolute", "file-url", "https-url", "relative"])
def test_a_config_pointing_at_a_path_or_url_is_never_read(
    kind, original, secret, tmp_path, monkeypatch
):
    """Nothing in a config is ever opened: loading refuses (a path is not a value) and the
    audit hook sees no open() but the model file's own."""
    monkeypatch.chdir(secret.parent)
    target = {
        "absolute": str(secret),
        "file-url": secret.as_uri(),
        "https-url": "https://example.invalid/weights.h5",
        "relative": secret.name,
    }[kind]
    for number, config in enumerate(_path_slots(config_of(original), target)):
        path = write(tmp_path, raw_zip(pack(with_config(original, config))), f"{number}.katman")
        refused(path)


def test_a_layer_name_that_looks_like_a_path_is_only_a_name(original, secret, tmp_path):
    """Names are labels: a layer called like a file loads (its variables are stored under
    that name) and the file is not touched."""
    model = katman.Sequential([layers.Input((3,)), layers.Dense(2, name=str(secret))])
    model.save(tmp_path / "named.katman")
    with watched(tmp_path / "named.katman"):
        loaded = katman.models.load_model(tmp_path / "named.katman")
    assert loaded.layers[0].name == str(secret)


# -- 5. zip members that could escape the archive or confuse readers ---------------------------------
def _renamed(original: dict, old: str, new: str) -> list[Member]:
    return [
        replace(m, name=new.encode()) if m.name == old.encode() else m
        for m in pack(members_of(original))
    ]


def _structural_cases(original: dict) -> dict[str, list[Member]]:
    base = pack(members_of(original))
    config = next(m for m in base if m.name == b"config.json")
    link = replace(
        stored("config.json", b"/etc/passwd"), external_attr=(stat.S_IFLNK | 0o777) << 16
    )
    return {
        "absolute": _renamed(original, "config.json", "/config.json"),
        "absolute-weights": _renamed(
            original, "model.weights.safetensors", "/tmp/model.weights.safetensors"
        ),
        "dotdot": _renamed(original, "config.json", "../config.json"),
        "dotdot-inner": _renamed(original, "config.json", "x/../config.json"),
        "dotdot-deep": [*base, stored("../../../../tmp/evil.py", b"print(1)")],
        "windows-path": _renamed(original, "config.json", "..\\config.json"),
        "drive": _renamed(original, "config.json", "C:/config.json"),
        "symlink": [m for m in base if m.name != b"config.json"] + [link],
        "symlink-weights": [
            replace(m, external_attr=(stat.S_IFLNK | 0o777) << 16)
            if m.name == b"model.weights.safetensors"
            else m
            for m in base
        ],
        "fifo": [
            replace(m, external_attr=(stat.S_IFIFO | 0o644) << 16)
            if m.name == b"config.json"
            else m
            for m in base
        ],
        "directory": [*base, stored("weights/", b"")],
        "directory-named-like-a-member": [
            *(m for m in base if m.name != b"compile.json"),
            replace(stored("compile.json", b""), external_attr=(stat.S_IFDIR | 0o755) << 16),
        ],
        "duplicate": [*base, config],
        "duplicate-different": [*base, deflated("config.json", b'{"class_name": "os.system"}')],
        "unknown": [*base, stored("evil.py", b"import os")],
        "keras-weights": [*base, stored("model.weights.h5", b"\x89HDF\r\n\x1a\n")],
        "nul-in-name": [
            *(m for m in base if m.name != b"config.json"),
            replace(config, name=b"config.json\x00.py"),
        ],
        "encrypted": [replace(m, flags=1) if m.name == b"config.json" else m for m in base],
        "compressed-tensors": [
            deflated(m.name.decode(), m.payload) if m.name.endswith(b".safetensors") else m
            for m in base
        ],
        "bzip2-json": [replace(m, method=12) if m.name == b"metadata.json" else m for m in base],
        "missing-config": [m for m in base if m.name != b"config.json"],
        "missing-metadata": [m for m in base if m.name != b"metadata.json"],
        "empty": [],
    }


@pytest.mark.parametrize(
    "case",
    ["absolute", "absolute-weights", "dotdot", "dotdot-inner", "dotdot-deep", "windows-path",
     "drive", "symlink", "symlink-weights", "fifo", "directory", "directory-named-like-a-member",
     "duplicate", "duplicate-different", "unknown", "keras-weights", "nul-in-name", "encrypted",
     "compressed-tensors", "bzip2-json", "missing-config", "missing-metadata", "empty"],
)  # fmt: skip
def test_unsafe_zip_members_are_refused(case, original, tmp_path):
    folder = tmp_path / "inside"
    folder.mkdir()
    path = write(folder, raw_zip(_structural_cases(original)[case]))
    refused(path)
    model = small_model()
    with watched(path), pytest.raises(ModelFileError):  # load_weights reads archives alike
        model.load_weights(path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["inside", "model.katman"]


# -- 6. decompression bombs ------------------------------------------------------------------------------
def _peak_bytes_while(action) -> int:
    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def _bomb_stream(size: int) -> tuple[bytes, int]:
    """A deflate stream of ``size`` bytes of JSON whitespace (compressed ~1000:1), and its CRC."""
    packer, chunk = zlib.compressobj(9, zlib.DEFLATED, -15), b" " * (1 << 20)
    payload, crc = bytearray(), 0
    for _ in range(size // len(chunk)):
        payload += packer.compress(chunk)
        crc = zlib.crc32(chunk, crc)
    return bytes(payload + packer.flush()), crc


@pytest.mark.parametrize("declared", ["honest", "understated", "huge"])
def test_a_decompression_bomb_is_refused_without_inflating_it(declared, original, tmp_path):
    size = 64 << 20  # four times the 16 MiB limit on a JSON member
    payload, crc = _bomb_stream(size)
    file_size = {"honest": size, "understated": 1000, "huge": 1 << 40}[declared]
    bomb = Member(b"config.json", payload, 8, crc, len(payload), file_size)
    members = [m for m in pack(members_of(original)) if m.name != b"config.json"] + [bomb]
    path = write(tmp_path, raw_zip(members))
    katman.models.load_model(write(tmp_path, raw_zip(pack(members_of(original))), "warm.katman"))
    peak = _peak_bytes_while(lambda: refused(path))
    assert peak < 4 << 20, f"loading held {peak} bytes at its peak"


def test_a_huge_declared_tensor_member_is_refused_without_reading_it(original, tmp_path):
    members = [
        replace(m, file_size=1 << 45, compress_size=1 << 45)
        if m.name == b"model.weights.safetensors"
        else m
        for m in pack(members_of(original))
    ]
    path = write(tmp_path, raw_zip(members))
    peak = _peak_bytes_while(lambda: refused(path))
    assert peak < 4 << 20, f"loading held {peak} bytes at its peak"


# -- 7. tensor headers declaring huge shapes or lengths ---------------------------------------------------
HUGE_HEADERS = {
    "huge-shape": lambda t: {
        **t,
        "model/dense/0": ("F32", [10**12, 10**12], t["model/dense/0"][2]),
    },
    "huge-shape-overflowing-int64": lambda t: {
        **t,
        "model/dense/0": ("F64", [2**62, 2**62, 2**62], b""),
    },
    "huge-offsets": None,
    "huge-header-length": None,
    "header-longer-than-file": None,
    "negative-dim": lambda t: {**t, "model/dense/0": ("F32", [-3, -4], t["model/dense/0"][2])},
    "deep-rank": lambda t: {**t, "model/dense/0": ("F32", [1] * 100_000, t["model/dense/0"][2])},
}


def _hostile_weights(original: dict, case: str) -> bytes:
    blob = original["members"]["model.weights.safetensors"]
    tensors = tensors_of(blob)
    if HUGE_HEADERS[case] is not None:
        return safetensors(HUGE_HEADERS[case](tensors))
    header, data = read_safetensors(blob)
    if case == "huge-offsets":
        header["model/dense/0"]["data_offsets"] = [0, 10**15]
        text = json.dumps(header).encode()
        return struct.pack("<Q", len(text)) + text + data
    text = blob[8 : 8 + struct.unpack("<Q", blob[:8])[0]]
    length = {"huge-header-length": 2**63 + 5, "header-longer-than-file": 60 << 20}[case]
    return struct.pack("<Q", length) + text + data


@pytest.mark.parametrize("case", sorted(HUGE_HEADERS))
def test_a_tensor_header_declaring_huge_sizes_is_refused_before_allocating(
    case, original, tmp_path
):
    weights = _hostile_weights(original, case)
    path = write(tmp_path, raw_zip(pack(members_of(original, model__weights__safetensors=weights))))
    katman.models.load_model(write(tmp_path, raw_zip(pack(members_of(original))), "warm.katman"))
    peak = _peak_bytes_while(lambda: refused(path, match="safetensors"))
    assert peak < 4 << 20, f"loading held {peak} bytes at its peak"
    standalone = write(tmp_path, weights, "small.weights.safetensors")  # weights-only files too
    model = small_model()

    def load_weights() -> None:
        with pytest.raises(ModelFileError):
            model.load_weights(standalone)

    peak = _peak_bytes_while(load_weights)
    assert peak < 4 << 20, f"load_weights held {peak} bytes at its peak"


# -- 8. pickle anywhere ------------------------------------------------------------------------------------
# A protocol-0 pickle calling gadget_probe_module.run(): unpickling it would leave a marker.
PICKLE_GADGET = f"c{GADGET_MODULE}\nrun\n(tR.".encode()


def _object_npy() -> bytes:
    import io

    stream = io.BytesIO()
    np.save(stream, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    return stream.getvalue()


@pytest.mark.parametrize(
    "case",
    ["config-is-pickle", "weights-are-pickle", "optimizer-is-npy", "extra-pickle-member",
     "extra-npy-member", "metadata-is-pickle", "object-dtype-tensor", "pickle-dtype-tensor"],
)  # fmt: skip
def test_pickle_is_never_loaded(case, original, gadget, tmp_path):
    npy = _object_npy()
    tensors = tensors_of(original["members"]["model.weights.safetensors"])
    changes: dict = {
        "config-is-pickle": {"config__json": PICKLE_GADGET},
        "metadata-is-pickle": {"metadata__json": pickle.dumps({"format": "katman"}) + PICKLE_GADGET},
        "weights-are-pickle": {"model__weights__safetensors": PICKLE_GADGET},
        "optimizer-is-npy": {"optimizer__safetensors": npy},
        "extra-pickle-member": {"data__pkl": PICKLE_GADGET},
        "extra-npy-member": {"model__weights__npy": npy},
        "object-dtype-tensor": {"model__weights__safetensors": safetensors(
            {**tensors, "model/dense/0": ("O", [2], PICKLE_GADGET[:16])})},
        "pickle-dtype-tensor": {"model__weights__safetensors": safetensors(
            {**tensors, "model/dense/0": ("PICKLE", [len(PICKLE_GADGET)], PICKLE_GADGET)})},
    }[case]  # fmt: skip
    path = write(tmp_path, raw_zip(pack(members_of(original, **changes))))
    refused(path)
    standalone = write(
        tmp_path, PICKLE_GADGET if "npy" not in case else npy, "x.weights.safetensors"
    )
    with watched(standalone), pytest.raises(ModelFileError):
        small_model().load_weights(standalone)


# -- 9. tensors that do not fit the architecture --------------------------------------------------------
def _mismatched(original: dict, case: str) -> tuple[dict[str, bytes], str]:
    weights = tensors_of(original["members"]["model.weights.safetensors"])
    optimizer = tensors_of(original["members"]["optimizer.safetensors"])
    code, shape, raw = weights["model/dense/0"]
    as_f64 = np.frombuffer(raw, "float32").astype("float64").tobytes()
    edits = {
        "transposed": (
            "model/dense/0",
            {**weights, "model/dense/0": (code, shape[::-1], raw)},
            None,
        ),
        "flattened": ("model/dense/0", {**weights, "model/dense/0": (code, [12], raw)}, None),
        "float64": ("model/dense/0", {**weights, "model/dense/0": ("F64", shape, as_f64)}, None),
        "int32": ("model/dense/0", {**weights, "model/dense/0": ("I32", shape, raw)}, None),
        "bfloat16": (
            "model/dense/1",
            {**weights, "model/dense/1": ("BF16", [8], weights["model/dense/1"][2])},
            None,
        ),
        "missing": (
            "model/dense_1/1",
            {k: v for k, v in weights.items() if k != "model/dense_1/1"},
            None,
        ),
        "unexpected": (
            "model/dense_9/0",
            {**weights, "model/dense_9/0": ("F32", [1], b"\0" * 4)},
            None,
        ),
        "renamed": (
            "model/dense/0",
            {("model/Dense/0" if k == "model/dense/0" else k): v for k, v in weights.items()},
            None,
        ),
        "optimizer-shape": (
            "optimizer/2",
            None,
            {**optimizer, "optimizer/2": ("F32", [4, 3], optimizer["optimizer/2"][2])},
        ),
        "optimizer-missing": (
            "optimizer/3",
            None,
            {k: v for k, v in optimizer.items() if k != "optimizer/3"},
        ),
    }
    name, new_weights, new_optimizer = edits[case]
    changes = {}
    if new_weights is not None:
        changes["model__weights__safetensors"] = safetensors(new_weights)
    if new_optimizer is not None:
        changes["optimizer__safetensors"] = safetensors(new_optimizer)
    return members_of(original, **changes), name


@pytest.mark.parametrize(
    "case",
    ["transposed", "flattened", "float64", "int32", "bfloat16", "missing", "unexpected",
     "renamed", "optimizer-shape", "optimizer-missing"],
)  # fmt: skip
def test_tensors_not_matching_the_architecture_are_refused_by_name(case, original, tmp_path):
    members, tensor = _mismatched(original, case)
    refused(write(tmp_path, raw_zip(pack(members))), match=tensor)


def test_load_weights_assigns_nothing_unless_everything_fits(original, tmp_path):
    """A weights file with one good tensor and one bad one leaves the model untouched."""
    weights = tensors_of(original["members"]["model.weights.safetensors"])
    # The last tensor written has the wrong shape; the others fit.
    weights["model/dense/0"] = ("F32", [4, 3], weights["model/dense/0"][2])
    model = small_model()
    path = write(
        tmp_path, safetensors(dict(reversed(list(weights.items())))), "w.weights.safetensors"
    )
    before = [w.numpy().copy() for w in model.weights]
    with watched(path), pytest.raises(ModelFileError, match="model/dense/0"):
        model.load_weights(path)
    for kept, now in zip(before, model.weights, strict=True):
        np.testing.assert_array_equal(kept, now.numpy())


# -- 10. truncated and corrupted files -----------------------------------------------------------------
def _member_data_offset(data: bytes, name: str) -> int:
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    (name_length, extra_length) = struct.unpack_from("<HH", data, info.header_offset + 26)
    return info.header_offset + 30 + name_length + extra_length


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.2, 0.5, 0.8, 0.97, 0.999])
def test_a_truncated_file_is_refused(fraction, original, tmp_path):
    data = raw_zip(pack(members_of(original)))
    refused(write(tmp_path, data[: int(len(data) * fraction)]))


FLIPS = [
    (member, where)
    for member in (
        "model.weights.safetensors",
        "optimizer.safetensors",
        "config.json",
        "compile.json",
        "metadata.json",
    )
    # (the last byte of a deflate stream may be padding that changes nothing)
    for where in (
        ("first", "middle", "last") if member.endswith("safetensors") else ("first", "middle")
    )
]


@pytest.mark.parametrize(("member", "where"), FLIPS)
def test_a_flipped_byte_is_caught_by_the_checksum(member, where, original, tmp_path):
    data = bytearray(raw_zip(pack(members_of(original))))
    start = _member_data_offset(bytes(data), member)
    size = len(next(m for m in pack(members_of(original)) if m.name == member.encode()).payload)
    offset = start + {"first": 0, "middle": size // 2, "last": size - 1}[where]
    data[offset] ^= 0x10
    error = refused(
        write(tmp_path, bytes(data)), match=member if member.endswith("safetensors") else None
    )
    assert "model.katman" in str(error)


def test_a_weights_file_cut_short_is_refused(original, tmp_path):
    blob = original["members"]["model.weights.safetensors"]
    model = small_model()
    for cut in (0, 7, 8, 40, len(blob) - 4, len(blob) - 1):
        path = write(tmp_path, blob[:cut], f"cut{cut}.weights.safetensors")
        with watched(path), pytest.raises(ModelFileError, match=r"safetensors|bytes"):
            model.load_weights(path)
    path = write(tmp_path, blob + b"\0" * 8, "longer.weights.safetensors")
    with pytest.raises(ModelFileError, match="cover"):
        model.load_weights(path)


# -- the metadata and the compile settings are checked too ---------------------------------------------
@pytest.mark.parametrize(
    "metadata",
    [{}, {"format": "keras"}, {"format": "katman", "format_version": 2},
     {"format": "katman", "format_version": True}, {"format": "katman", "format_version": 0},
     {"format": "katman", "format_version": "1"}, {"format": "katman-training-checkpoint"},
     [1], "katman", None],
)  # fmt: skip
def test_metadata_that_is_not_katman_format_1_is_refused(metadata, original, tmp_path):
    members = members_of(original, metadata__json=json.dumps(metadata).encode())
    refused(write(tmp_path, raw_zip(pack(members))), match="katman")


@pytest.mark.parametrize(
    "settings", [[1], "adam", 3, None, {"loss": "mse"}, {"optimizer": None, "loss": "mse"}]
)
def test_compile_settings_that_are_not_an_object_with_an_optimizer_are_refused(
    settings, original, tmp_path
):
    members = members_of(original, compile__json=json.dumps(settings).encode())
    path = write(tmp_path, raw_zip(pack(members)))
    refused(path, match="compile")
    katman.models.load_model(path, compile=False)  # not read at all without compile


def test_duplicate_json_keys_are_refused(original, tmp_path):
    """Readers disagree on which of two equal keys wins; katman's refuse both."""
    text = original["members"]["config.json"].decode()
    doubled = text.replace(
        '"class_name": "Sequential"', '"class_name": "Sequential", "class_name": "Sequential"', 1
    )
    assert doubled != text
    refused(
        write(tmp_path, raw_zip(pack(members_of(original, config__json=doubled.encode())))),
        match="twice|duplicate",
    )
    weights = original["members"]["model.weights.safetensors"]
    header, data = read_safetensors(weights)
    text = (
        json.dumps(header)[:-1] + ', "model/dense/0": ' + json.dumps(header["model/dense/0"]) + "}"
    )
    blob = struct.pack("<Q", len(text)) + text.encode() + data
    refused(
        write(tmp_path, raw_zip(pack(members_of(original, model__weights__safetensors=blob)))),
        match="twice|duplicate",
    )
