"""The training benchmark harness runs end to end (a smoke run; no timing is asserted)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT, clean_env

ROW_TITLES = [
    f"{model} {measurement}"
    for model in ("MLP", "convnet")
    for measurement in (
        "fit, ms/step",
        "train_on_batch, ms/call",
        "predict ",
        "first fit epoch (incl. compile), ms",
        "job peak RSS, MB",
    )
] + ["start-up: import + build both models, ms", "start-up peak RSS, MB"]
NUMBER = re.compile(r"^\d+(\.\d+)?$")


@pytest.mark.slow
def test_quick_run_prints_every_row_with_numeric_ratios(active_backend, home, tmp_path):
    dump = tmp_path / "results.json"
    command = [sys.executable, "-m", "benchmarks", "--backend", active_backend, "--quick"]
    result = subprocess.run(
        [*command, "--json", str(dump)],
        cwd=ROOT,
        env=clean_env(KATMAN_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[3] == (
        f"| measurement | katman | raw {active_backend} | Keras 3 | katman/raw | katman/Keras "
        "| max/min |"
    )
    rows = [line.strip("|").split("|") for line in lines[5:] if line.startswith("| ")]
    assert len(rows) == len(ROW_TITLES), result.stdout
    for title, cells in zip(ROW_TITLES, rows, strict=True):
        assert cells[0].strip().startswith(title), cells
        values = [cell.strip() for cell in cells[1:]]
        assert len(values) == 6 and all(NUMBER.match(v) for v in values), cells
        assert all(float(v) > 0 for v in values), cells
    # The three variants computed the same loss from the same initial weights.
    assert sum("-> same" in line for line in lines) == 2, result.stdout
    saved = json.loads(dump.read_text())["results"]
    assert sorted(saved) == sorted(
        f"{job}/{variant}"
        for job in ("startup", "mlp", "convnet")
        for variant in ("katman", "raw", "keras")
    )


def test_fit_step_is_the_median_epoch_after_the_first():
    from benchmarks.workload import per_step

    # Epochs after the first take 1, 1, 8 (another process ran) and 1 seconds, of 2 steps each.
    assert per_step([0.0, 1.0, 2.0, 10.0, 11.0], steps=2) == 0.5
