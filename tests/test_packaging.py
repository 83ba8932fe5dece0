"""The wheel holds every sub-package of the four source folders, mapped into ``katman``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT, clean_env

FOLDERS = {"core": "katman", "backends": "katman/backends", "plugins": "katman/plugins",
           "conformance_tests": "katman/conformance"}  # fmt: skip


def expected_packages() -> set[str]:
    packages = set()
    for folder, target in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            relative = init.parent.relative_to(ROOT / folder)
            packages.add(str(Path(target) / relative).removesuffix("/."))
    return packages


def test_wheel_contains_every_subpackage(tmp_path):
    # Build from a copy of the sources so that the checkout gets no build/ or egg-info.
    source = tmp_path / "src"
    for folder in FOLDERS:
        shutil.copytree(
            ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(source)],
        env=clean_env(), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [wheel] = tmp_path.glob("katman-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packaged = {name.rsplit("/", 1)[0] for name in names if name.endswith("/__init__.py")}
    assert expected_packages() <= packaged, sorted(expected_packages() - packaged)
    assert "katman/py.typed" in names
    assert "katman/backends/torch/backend.py" in names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    for extra in ("torch", "jax", "tensorflow", "all", "test", "docs"):
        assert f"Provides-Extra: {extra}" in text
    requirements = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    assert any(line.startswith("Requires-Dist: torch") for line in requirements)
    assert not any("torch==" in line for line in requirements)  # a range, never a pin
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "katman = katman.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
