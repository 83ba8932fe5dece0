"""Models saved on each backend load on the active one with the same predictions, and
training continued from the loaded optimizer state follows the same losses.

Once per test session, one process per backend (torch, jax, tensorflow) runs
tests/scripts/portability.py to train and save a Sequential, a functional model with a skip
connection and a subclassed model of registered classes, recording predictions and the next
training losses. This process (the active backend) then loads all nine files. The suite runs
once per backend, so together the runs cover the whole 3x3 matrix; to check it in one go:
``KATMAN_BACKEND=<target> python tests/scripts/portability.py check DIR...``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from conftest import clean_env

BACKENDS = ("torch", "jax", "tensorflow")
SCRIPT = Path(__file__).parent / "scripts" / "portability.py"
MODELS = ("sequential", "functional", "subclassed")

pytestmark = pytest.mark.slow


def _script_module() -> ModuleType:
    """The script as a module of this process: importing it registers its classes, as a
    user's loading program imports the module that defines them."""
    spec = importlib.util.spec_from_file_location("katman_portability_models", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def portability() -> ModuleType:
    return _script_module()


@pytest.fixture(scope="session")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The files each backend saved: one saving process per backend, run side by side."""
    root = tmp_path_factory.mktemp("portability")
    home = root / "katman-home"
    home.mkdir()
    folders = {backend: root / backend for backend in BACKENDS}
    processes = {
        backend: subprocess.Popen(
            [sys.executable, str(SCRIPT), "save", str(folder)],
            env=clean_env(KATMAN_BACKEND=backend, KATMAN_HOME=str(home)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for backend, folder in folders.items()
    }
    failures = []
    for backend, process in processes.items():
        try:
            _, stderr = process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
        if process.returncode != 0:
            failures.append(f"saving on {backend} failed ({process.returncode}):\n{stderr}")
    assert not failures, "\n".join(failures)
    return folders


@pytest.mark.parametrize("source", BACKENDS)
@pytest.mark.parametrize("name", MODELS)
def test_model_saved_on_each_backend_loads_and_trains_on(source, name, saved, portability):
    folder = saved[source]
    with zipfile.ZipFile(folder / f"{name}.katman") as archive:
        assert json.loads(archive.read("metadata.json"))["backend"] == source
    portability.check(folder, name)  # predictions (rtol 1e-5), continued losses (rtol 1e-4)


def test_the_check_fails_when_the_optimizer_state_is_not_the_saved_one(saved, portability):
    """The loss check is sensitive to the optimizer state: continuing from a fresh optimizer
    (the same settings, without the saved moments) is caught."""
    import katman

    folder, copy = saved[BACKENDS[0]], saved[BACKENDS[0]].parent / "fresh-optimizer"
    settings = katman.models.load_model(folder / "sequential.katman").get_compile_config()
    model = katman.models.load_model(folder / "sequential.katman", compile=False)
    model.compile_from_config(settings)  # an optimizer not built yet: saved without state
    model.save(copy / "sequential.katman")
    for suffix in ("predictions", "losses"):
        name = f"sequential.{suffix}.npy"
        (copy / name).write_bytes((folder / name).read_bytes())
    with pytest.raises(AssertionError, match="continued training differs"):
        portability.check(copy, "sequential")
