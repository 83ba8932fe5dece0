"""What importing and first use load: no framework at import, only the active one after."""

from __future__ import annotations

import pkgutil

import pytest
from conftest import clean_env, run_python

import katman

FRAMEWORKS = ("torch", "jax", "tensorflow")


def test_import_katman_loads_no_framework_and_no_numpy(home):
    code = (
        "import sys, katman\n"
        "print(sorted(m for m in ('torch', 'jax', 'tensorflow', 'numpy', 'keras') if m in sys.modules))"
    )
    result = run_python(code, clean_env(KATMAN_HOME=str(home)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_first_tensor_loads_only_the_active_framework(active_backend, home):
    code = (
        "import sys, katman\n"
        "x = katman.ops.add(katman.ops.convert_to_tensor([1.0, 2.0]), 1.0)\n"
        "print(katman.ops.convert_to_numpy(x).tolist())\n"
        "print(sorted(m for m in ('torch', 'jax', 'tensorflow', 'keras') if m in sys.modules))"
    )
    result = run_python(code, clean_env(KATMAN_BACKEND=active_backend, KATMAN_HOME=str(home)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[2.0, 3.0]", f"['{active_backend}']"]


def katman_modules() -> list[str]:
    """Every module of the katman package, but the backends of other frameworks."""
    names = ["katman"]
    for info in pkgutil.walk_packages(katman.__path__, "katman."):
        names.append(info.name)
    # The other three folders are mapped into the namespace, not nested under core/.
    for package in ("katman.backends", "katman.plugins", "katman.conformance"):
        module = __import__(package, fromlist=["_"])
        names.append(package)
        names += [i.name for i in pkgutil.walk_packages(module.__path__, f"{package}.")]
    return sorted(set(names) - {"katman.__main__"})


def test_every_module_imports_alone(active_backend, home):
    others = [f for f in FRAMEWORKS if f != active_backend]
    modules = [m for m in katman_modules() if not any(f"backends.{o}." in m for o in others)]
    assert "katman.registry._manager" in modules and "katman.plugins.ops.math" in modules
    code = (
        "import importlib, subprocess, sys\n"
        "failed = []\n"
        f"for name in {modules!r}:\n"
        "    r = subprocess.run([sys.executable, '-c', f'import {name}'], capture_output=True, text=True)\n"
        "    if r.returncode: failed.append((name, r.stderr.strip().splitlines()[-1]))\n"
        "print(failed)\n"
    )
    result = run_python(code, clean_env(KATMAN_BACKEND=active_backend, KATMAN_HOME=str(home)), 600)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_core_imports_no_framework_and_plugins_no_backend():
    """The layout's dependency rules, read from the source files."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    forbidden = {
        "core": {*FRAMEWORKS, "katman.backends", "katman.plugins", "keras"},
        "plugins": {*FRAMEWORKS, "katman.backends", "keras"},
        "conformance_tests": {*FRAMEWORKS, "katman.backends", "keras"},
    }
    offenders = []
    for folder, banned in forbidden.items():
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    if any(name == b or name.startswith(b + ".") for b in banned):
                        offenders.append(f"{path.relative_to(root)} imports {name}")
    assert offenders == []


def test_backends_import_only_their_own_framework():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "backends"
    offenders = []
    for framework in FRAMEWORKS:
        for path in (root / framework).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = (
                        [a.name for a in node.names]
                        if isinstance(node, ast.Import)
                        else [node.module or ""]
                    )
                    for name in names:
                        top = name.split(".")[0]
                        if (top in FRAMEWORKS and top != framework) or name.startswith(
                            "katman.plugins"
                        ):
                            offenders.append(f"{path.name} of {framework} imports {name}")
    assert offenders == []


def test_tensorflow_backend_does_not_drag_in_jax_or_keras(home):
    """TensorFlow imports JAX and Keras eagerly when they are installed; the TensorFlow backend
    prevents that, and both still import normally afterwards."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("jax") is None:
        pytest.skip("needs both tensorflow and jax installed")
    code = (
        "import sys, katman\nkatman.ops.convert_to_tensor(1.0)\n"
        "print('jax' in sys.modules or 'keras' in sys.modules)\n"
        "import jax, keras\nprint(jax.numpy.ones(2).tolist())"
    )
    result = run_python(code, clean_env(KATMAN_BACKEND="tensorflow", KATMAN_HOME=str(home)))
    assert result.stdout.split("\n")[:2] == ["False", "[1.0, 1.0]"], result.stderr
