"""Device names as users write them: ``"cpu"``, ``"gpu"``, ``"gpu:1"``."""

from __future__ import annotations

_KINDS = ("cpu", "gpu", "tpu")


def parse_device(name: str) -> tuple[str, int]:
    """``"gpu:1"`` -> ``("gpu", 1)``; a bare kind means index 0. ``"cuda"`` reads as gpu.

    Raises:
        ValueError: not a device name.
    """
    kind, _, index = str(name).lower().partition(":")
    kind = "gpu" if kind == "cuda" else kind
    if kind not in _KINDS or (index and not index.isdigit()):
        raise ValueError(
            f"Unknown device {name!r}: expected 'cpu', 'gpu' or 'tpu', optionally with ':N'."
        )
    return kind, int(index or 0)
