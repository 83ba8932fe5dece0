"""The progress bar ``fit``, ``evaluate`` and ``predict`` print, in Keras's style:

12/45 ━━━━━━━━━━━━━━━━━━━━ 1s 8ms/step - accuracy: 0.9012 - loss: 0.3120
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

import numpy as np

_WIDTH = 20


class Progbar:
    """A progress bar for ``target`` steps (None if unknown).

    Args:
        target: the number of steps, or None.
        width: the bar's width in characters.
        verbose: 1 draws a live bar (on a terminal; elsewhere one line when done), 2 prints
            one line when done, 0 prints nothing.
        interval: the least time between redraws, in seconds.
        unit_name: the unit in the rate (``"step"``).
        stream: where to write (default ``sys.stdout``).
    """

    def __init__(
        self,
        target: int | None,
        width: int = _WIDTH,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Iterable[str] | None = None,
        unit_name: str = "step",
        stream: TextIO | None = None,
    ) -> None:
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stream = stream or sys.stdout
        self._dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._values: dict[str, Any] = {}
        self._current = 0
        self._finished = False

    def update(
        self,
        current: int,
        values: Iterable[tuple[str, Any]] | None = None,
        finalize: bool | None = None,
    ) -> None:
        """Move to step ``current`` with the latest metric ``values`` (name, value) pairs."""
        self._current = current
        for name, value in values or ():
            self._values[name] = value
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        if self.verbose == 0 or self._finished:
            return
        now = time.monotonic()
        live = self.verbose == 1 and self._dynamic and now - self._last_draw >= self.interval
        if not finalize and not live:
            return
        self._last_draw = now
        line = self._line(now, finalize)
        if self._dynamic:
            self.stream.write("\r" + line + ("\n" if finalize else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._finished = finalize

    def add(self, n: int, values: Iterable[tuple[str, Any]] | None = None) -> None:
        self.update(self._current + n, values)

    def _line(self, now: float, finalize: bool) -> str:
        current, target = self._current, self.target
        if target is not None:
            digits = len(str(target))
            counter = f"{current:>{digits}}/{target}"
            done = int(self.width * min(current, target) / max(target, 1))
            bar = (
                "━" * done
                + ("╺" if done < self.width else "")
                + " " * max(0, self.width - done - 1)
            )
        else:
            counter, bar = f"{current}", ""
        elapsed = now - self._start
        per_step = elapsed / max(current, 1)
        if finalize or target is None:
            timing = f"{_duration(elapsed)} {_rate(per_step, self.unit_name)}"
        else:
            timing = f"ETA: {_duration(per_step * (target - current))}"
        parts = [f"{counter} {bar}".rstrip(), timing]
        text = " ".join(parts)
        for name, value in self._values.items():
            text += f" - {name}: {_format(value)}"
        return text


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _rate(seconds: float, unit: str) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _format(value: Any) -> str:
    try:
        number = float(np.asarray(value))
    except (TypeError, ValueError):
        return str(value)
    if number != 0 and abs(number) < 1e-3:
        return f"{number:.4e}"
    return f"{number:.4f}"
