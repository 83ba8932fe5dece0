"""Shared fixtures. The suite runs once per backend: ``KATMAN_BACKEND=jax python -m pytest``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from katman.conformance.profiles import load_profile

load_profile()

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PLUGIN = ROOT / "examples" / "plugins" / "katman-example"


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment of a fresh process: no KATMAN_* settings but the ones given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KATMAN_")}
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def run_python(code: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return run([sys.executable, "-c", code], env, timeout)


def run_katman(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "katman", *args], env)


@pytest.fixture(scope="session")
def active_backend() -> str:
    import katman

    return katman.config.backend()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty KATMAN_HOME for a subprocess."""
    folder = tmp_path / "katman-home"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def example_plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/plugins/katman-example, really installed (built by pip) into a fresh folder.

    Processes that put this folder on PYTHONPATH see the plugin's distribution and entry
    point exactly as after ``pip install``; the test environment itself stays untouched.
    """
    target = tmp_path_factory.mktemp("site-example")
    result = run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
            "--no-build-isolation", "--target", str(target), str(EXAMPLE_PLUGIN),
        ],
        clean_env(),
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (target / "katman_example" / "plugin.py").exists()
    return target
