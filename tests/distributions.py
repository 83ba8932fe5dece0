"""Real installed distributions made on the fly: a ``*.dist-info`` folder with METADATA and
entry_points.txt beside the package's modules, exactly what pip leaves in site-packages."""

from __future__ import annotations

import textwrap
from pathlib import Path


def install_distribution(
    site: Path,
    name: str,
    *,
    entry_points: dict[str, str],
    modules: dict[str, str],
    version: str = "1.0",
) -> Path:
    """Write distribution ``name`` into the folder ``site`` (to be put on ``sys.path``).

    Args:
        entry_points: ``katman`` entry-point names to their targets (``"module"``).
        modules: module file paths relative to ``site`` (``"pkg/plugin.py"``) to their source.
    """
    site.mkdir(parents=True, exist_ok=True)
    for relative, source in modules.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = "".join(f"{ep} = {target}\n" for ep, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[katman]\n{lines}", encoding="utf-8")
    return site
