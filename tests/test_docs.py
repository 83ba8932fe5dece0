"""Docs generated from the registry stay in sync with it."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT, clean_env, run_katman


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "jax", "tensorflow", "keras")),
    reason="the coverage page is generated with all three frameworks and keras installed",
)
def test_ops_coverage_page_matches_the_registry(home):
    result = run_katman("ops", "--markdown", env=clean_env(KATMAN_HOME=str(home)))
    assert result.returncode == 0, result.stderr
    page = (ROOT / "docs" / "ops-coverage.md").read_text(encoding="utf-8")
    assert page == result.stdout, (
        "docs/ops-coverage.md is stale: run `katman ops --markdown > docs/ops-coverage.md`"
    )
