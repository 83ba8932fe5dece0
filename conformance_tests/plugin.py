"""Opt-in pytest plugin: ``pytest -p katman.conformance.plugin`` adds katman's conformance
suite to a pytest run, against the backend ``KATMAN_BACKEND`` names (a third party's too).
It is never loaded unless asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SUITE = Path(__file__).resolve().parent


def pytest_load_initial_conftests(early_config: Any, parser: Any, args: list[str]) -> None:
    del early_config, parser
    args.append(str(SUITE))
