"""The training benchmark harness runs end to end (a smoke run; no timing is asserted)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
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


def run_benchmarks(home, *args, timeout):
    """``python -m benchmarks ARGS`` from the repository root; the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        env=clean_env(KATMAN_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
def test_quick_run_prints_every_row_with_numeric_ratios(active_backend, home, tmp_path):
    dump = tmp_path / "results.json"
    result = run_benchmarks(
        home, "--backend", active_backend, "--quick", "--json", str(dump), timeout=900
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


@pytest.mark.slow
def test_profile_step_reports_the_mean_and_the_fastest_epoch(active_backend, home):
    command = [sys.executable, "-m", "benchmarks.profile_step", "--in-process"]
    command += ["--backend", active_backend, "--model", "tiny_mlp", "--variants", "katman"]
    command += ["--seconds", "0.5", "--threads", "1"]
    result = subprocess.run(
        command,
        cwd=ROOT,
        env=clean_env(KATMAN_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["variant"] == "katman" and measured["steps"] >= 10
    # The fastest epoch can be no slower than the mean of all of them.
    assert 0 < measured["best_ms"] <= measured["wall_ms"] + 1e-9


def test_fit_step_is_the_median_epoch_after_the_first():
    from benchmarks.workload import per_step

    # Epochs after the first take 1, 1, 8 (another process ran) and 1 seconds, of 2 steps each.
    assert per_step([5.0, 1.0, 1.0, 8.0, 1.0], steps=2) == 0.5


def test_ratios_pair_each_round_so_a_slow_round_divides_out():
    from benchmarks.training import table
    from benchmarks.workload import DEFAULT_PLANS

    # Round 2 ran on a slow machine: every variant took twice as long. Paired, katman is
    # 0.9 of raw in every round; the medians alone (1.0 against 1.0) would hide it.
    fits = {"katman": [0.9, 1.8, 1.0], "raw": [1.0, 2.0, 1.0 / 0.9], "keras": [1.8, 3.6, 2.0]}
    keys = ("fit_step", "train_on_batch", "predict", "first_epoch", "peak_rss_mb")
    results = {
        ("mlp", variant): [{key: value for key in keys} for value in values]
        for variant, values in fits.items()
    }
    fit_row = table(results, "torch", {"mlp": DEFAULT_PLANS["mlp"]})[2]
    cells = [cell.strip() for cell in fit_row.strip("|").split("|")]
    assert cells[0] == "MLP fit, ms/step"
    assert cells[4:] == ["0.90", "0.50", "2.00"]  # katman/raw, katman/Keras, max/min


def test_an_interleaved_job_that_fails_names_itself_and_leaves_no_process(active_backend):
    from benchmarks.training import child_env, run_interleaved

    good = {"variant": "raw", "backend": active_backend, "job": "mlp"}
    good["plan"] = {"steps": 1, "epochs": 2, "batches": 1, "warmup": 0, "predict_samples": 16}
    broken = {**good, "variant": "katman", "plan": {"steps": 1}}  # a plan without epochs
    before = _children()
    with pytest.raises(RuntimeError, match=r"benchmark job katman/mlp .* failed") as caught:
        run_interleaved([good, broken], child_env(active_backend, 1), timeout=300, epochs=2)
    assert "TypeError" in str(caught.value)  # the worker's own error, from its stderr
    assert _children() == before


def _children() -> set[int]:
    """This process's live children (Linux: from /proc)."""
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue  # it exited meanwhile
        if f"\nPPid:\t{os.getpid()}\n" in status and "State:\tZ" not in status:
            found.add(int(entry))
    return found


@pytest.mark.parametrize(("model", "title"), [("resnet", "ResNet"), ("tiny_resnet", "tiny ResNet")])
def test_the_resnet_variants_compute_the_same_function_from_the_same_weights(model, title):
    # The ResNets are trained three ways; their layers must line up by name and layout
    # (katman on the active backend; the hand-written torch and jax variants, whose
    # frameworks are installed whatever the active backend).
    from benchmarks import keras_side, raw_jax, raw_torch, workload
    from benchmarks.training import rows

    weights = workload.initial_weights(model)
    named = workload.by_layer(model, weights)
    assert [name for name, _ in named] == [name for name, _, _ in workload.resnet_layers(model)]
    assert [w.shape[-1] for w in weights][:1] == [workload.RESNET_SIZES[model].stem]
    x = np.random.default_rng(0).random((2, *workload.INPUT_SHAPES[model]), dtype=np.float32)
    ours = keras_side.Runner(library="katman", model=model, weights=weights)
    with_weights = [layer.name for layer in ours.model.layers if layer.weights]
    assert sorted(with_weights) == sorted(name for name, _ in named)
    assert len(ours.model.layers) == 52  # with the Input, at either size
    expected = ours.predict_on_batch(x)
    assert expected.shape == (2, workload.NUM_CLASSES)
    for module in (raw_torch, raw_jax):
        got = module.Runner(model=model, weights=weights).predict_on_batch(x)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert rows((model,))[0][2] == f"{title} fit, ms/step"


@pytest.mark.parametrize(("model", "title"), [("mlp", "MLP"), ("tiny_mlp", "tiny MLP")])
def test_the_mlp_variants_compute_the_same_function_from_the_same_weights(
    model, title, active_backend
):
    # katman on the active backend against the hand-written torch and jax MLPs (installed
    # whatever the backend) and, where TensorFlow is the active backend, its own.
    from benchmarks import keras_side, raw_jax, raw_torch, workload
    from benchmarks.training import rows

    weights = workload.initial_weights(model)
    width = workload.MLP_WIDTHS[model]
    assert [w.shape for w in weights[::2]] == [(784, width), (width, width), (width, 10)]
    x = np.random.default_rng(0).random((3, 784), dtype=np.float32)
    ours = keras_side.Runner(library="katman", model=model, weights=weights)
    expected = ours.predict_on_batch(x)
    assert expected.shape == (3, workload.NUM_CLASSES)
    modules = [raw_torch, raw_jax]
    if active_backend == "tensorflow":
        from benchmarks import raw_tensorflow

        modules.append(raw_tensorflow)
    for module in modules:
        got = module.Runner(model=model, weights=weights).predict_on_batch(x)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert rows((model,))[0][2] == f"{title} fit, ms/step"


def test_gpu_run_stops_before_measuring_when_the_framework_sees_no_gpu(home):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: --gpu would measure on it")
    result = run_benchmarks(home, "--backend", "torch", "--gpu", timeout=120)
    assert result.returncode != 0
    assert "--gpu: torch sees no GPU on this machine." in result.stderr
    assert "round" not in result.stderr  # nothing was measured


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--models", "resnet"), "the ResNets have hand-written torch and jax variants only"),
        (("--models", "tiny_resnet"), "the ResNets have hand-written torch and jax variants"),
        (("--gpu",), "--gpu compares torch and jax"),
    ],
)
def test_tensorflow_runs_refuse_what_has_no_tensorflow_variant(home, args, message):
    result = run_benchmarks(home, "--backend", "tensorflow", *args, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr
