"""Backend resolution: KATMAN_BACKEND, then katman.json, then the first installed framework."""

from __future__ import annotations

import json
import types

import pytest
from conftest import clean_env, run_python

import katman
from katman.backend import selection
from katman.errors import BackendNotAvailableError
from katman.registry import PluginManager, PluginRegistrar

FRAMEWORKS = ("torch", "jax", "tensorflow")


def manager_with(*register_hooks) -> PluginManager:
    manager = PluginManager(strict=True, autoload=False, blocked=())
    manager.load_builtins()
    for index, hook in enumerate(register_hooks):
        manager.add_plugin(
            types.SimpleNamespace(katman_register=katman.hookimpl(hook)),
            katman.registry.PluginInfo(f"extra{index}", "runtime", "tests"),
        )
    return manager


def missing_backend(registry: PluginRegistrar) -> None:
    registry.add_backend(
        "mlx",
        "kt_mlx_backend:Backend",
        requires=("kt_mlx_not_installed",),
        install="pip install kt-mlx",
    )


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in ("KATMAN_BACKEND",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KATMAN_HOME", str(tmp_path))
    return tmp_path


def test_environment_variable_wins(env, monkeypatch):
    (env / "katman.json").write_text(json.dumps({"backend": "tensorflow"}))
    monkeypatch.setenv("KATMAN_BACKEND", "jax")
    chosen = selection._resolve(manager_with().registry)
    assert (chosen.name, chosen.reason) == ("jax", "KATMAN_BACKEND environment variable")


def test_config_file_comes_next(env):
    (env / "katman.json").write_text(json.dumps({"backend": "tensorflow"}))
    chosen = selection._resolve(manager_with().registry)
    assert chosen.name == "tensorflow"
    assert str(env / "katman.json") in chosen.reason


def test_first_installed_framework_is_the_default(env):
    chosen = selection._resolve(manager_with().registry)
    installed = [name for name in FRAMEWORKS if selection.is_installed(
        manager_with().registry.get("backend", name))]  # fmt: skip
    assert chosen.name == installed[0]
    assert chosen.reason == "first installed of torch, jax, tensorflow"


def test_unknown_backend_names_the_available_ones_and_the_install_command(env, monkeypatch):
    monkeypatch.setenv("KATMAN_BACKEND", "nope")
    with pytest.raises(BackendNotAvailableError) as caught:
        selection._resolve(manager_with().registry)
    message = str(caught.value)
    assert "Unknown backend 'nope'" in message
    for name in FRAMEWORKS:
        assert name in message and f"pip install 'katman[{name}]'" in message
    assert isinstance(caught.value, ImportError)


def test_registered_but_uninstalled_backend_says_how_to_install(env, monkeypatch):
    monkeypatch.setenv("KATMAN_BACKEND", "mlx")
    with pytest.raises(
        BackendNotAvailableError,
        match=r"'mlx'.*not installed.*kt_mlx_not_installed.*pip install kt-mlx",
    ):
        selection._resolve(manager_with(missing_backend).registry)


def test_no_installed_backend_at_all(env):
    manager = PluginManager(
        strict=True, autoload=False, blocked=[f"backends.{n}" for n in FRAMEWORKS]
    )
    manager.load_builtins()
    manager.add_plugin(
        types.SimpleNamespace(katman_register=katman.hookimpl(missing_backend)),
        katman.registry.PluginInfo("mlx", "runtime", "tests"),
    )
    with pytest.raises(
        BackendNotAvailableError, match=r"No katman backend is installed.*pip install kt-mlx"
    ):
        selection._resolve(manager.registry)


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_each_backend_is_selectable_without_importing_a_framework(name, home):
    code = (
        "import sys, katman; print(katman.config.backend()); "
        "print(sorted(m for m in ('torch', 'jax', 'tensorflow') if m in sys.modules))"
    )
    result = run_python(code, clean_env(KATMAN_BACKEND=name, KATMAN_HOME=str(home)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [name, "[]"]


def test_selection_is_fixed_for_the_life_of_the_process(home):
    code = (
        "import os, katman; first = katman.config.backend(); "
        "os.environ['KATMAN_BACKEND'] = 'tensorflow' if first != 'tensorflow' else 'jax'; "
        "print(first == katman.config.backend())"
    )
    result = run_python(code, clean_env(KATMAN_BACKEND="torch", KATMAN_HOME=str(home)))
    assert result.stdout.strip() == "True", result.stderr
