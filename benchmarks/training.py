"""katman against the raw framework and Keras 3 on the same backend: training steps
(``fit``, ``train_on_batch``), ``predict``, start-up and peak memory, for an MLP and the classic
MNIST convnet; on request a ResNet-style model (``resnet``) and two small models whose CPU
step is mostly the host work a GPU step is made of: ``tiny_mlp`` (per step) and
``tiny_resnet`` (per layer).

Every measurement runs in a fresh process (``benchmarks/worker.py``); the three variants
alternate (katman, raw, Keras, then the next round in rotated order; within a round their
``fit`` epochs take turns), and the table shows the median of the rounds and the ratios
katman/raw and katman/Keras (the median of each round's ratio). Usage::

    python -m benchmarks --backend torch            # a few minutes on 2 cores
    python -m benchmarks --backend jax --quick      # a smoke run, about a minute
    python -m benchmarks --backend torch --gpu      # MLP, convnet, ResNet on the GPU
    python -m benchmarks --backend torch --models tiny_mlp tiny_resnet --threads 1
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.worker import MARKER, PAUSED
from benchmarks.workload import (
    ALL_MODELS,
    BATCH_SIZE,
    DEFAULT_PLANS,
    GPU_MODELS,
    GPU_PLANS,
    MODELS,
    QUICK_PLANS,
    RESNETS,
    Plan,
)

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("torch", "jax", "tensorflow")
VARIANTS = ("katman", "raw", "keras")
MODEL_TITLES = {
    "mlp": "MLP",
    "tiny_mlp": "tiny MLP",
    "convnet": "convnet",
    "resnet": "ResNet",
    "tiny_resnet": "tiny ResNet",
}


def rows(jobs: tuple[str, ...]) -> list[tuple[str, str, str, float]]:
    """The table's rows for ``jobs``: (job, result key, row title, scale to the title's unit)."""
    found = []
    for job in (j for j in jobs if j != "startup"):
        title = MODEL_TITLES[job]
        found += [
            (job, "fit_step", f"{title} fit, ms/step", 1000.0),
            (job, "train_on_batch", f"{title} train_on_batch, ms/call", 1000.0),
            (job, "predict", f"{title} predict {{samples}} samples, ms", 1000.0),
            (job, "first_epoch", f"{title} first fit epoch (incl. compile), ms", 1000.0),
            (job, "peak_rss_mb", f"{title} job peak RSS, MB", 1.0),
        ]
    if "startup" in jobs:
        found += [
            ("startup", "startup", "start-up: import + build both models, ms", 1000.0),
            ("startup", "peak_rss_mb", "start-up peak RSS, MB", 1.0),
        ]
    return found


#: environment variables that ``--threads`` sets in every variant's process
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def child_env(backend: str, threads: int | None) -> dict[str, str]:
    env = dict(os.environ)
    env["KATMAN_BACKEND"] = backend
    env["KERAS_BACKEND"] = backend
    if threads:
        env.update({name: str(threads) for name in THREAD_VARIABLES})
        # XLA's CPU client (jax): the size of its intra-op pool, and no Eigen threads at 1.
        eigen = "true" if threads > 1 else "false"
        env["XLA_FLAGS"] = (
            f"--xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={threads}"
        )
    return env


def run_job(job: dict[str, Any], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """One measurement in a fresh process; its JSON result."""
    process = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", json.dumps(job)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    for line in reversed(process.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise RuntimeError(
        f"benchmark job {job['variant']}/{job['job']} on {job['backend']} failed "
        f"(exit status {process.returncode}):\n{process.stderr[-3000:]}"
    )


class _PausingJob:
    """A model job's worker process, which stops at every pause until told to go on."""

    def __init__(self, job: dict[str, Any], env: dict[str, str], timeout: float) -> None:
        self.job = job
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", json.dumps({**job, "interleaved": True})],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, text=True,
        )  # fmt: skip
        self.timer = threading.Timer(timeout, self.process.kill)
        self.timer.start()

    def go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def wait_for(self, marker: str) -> str:
        """What follows ``marker`` on the first stdout line that starts with it."""
        assert self.process.stdout is not None
        while line := self.process.stdout.readline():
            if line.startswith(marker):
                return line[len(marker) :].strip()
        self.process.wait()
        self.stderr.seek(0)
        raise RuntimeError(
            f"benchmark job {self.job['variant']}/{self.job['job']} on {self.job['backend']} "
            f"failed (exit status {self.process.returncode}):\n{self.stderr.read()[-3000:]}"
        )

    def close(self) -> None:
        self.timer.cancel()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.stderr):
            with contextlib.suppress(OSError):  # a pipe to a killed process
                stream.close()


def run_interleaved(
    jobs: list[dict[str, Any]], env: dict[str, str], timeout: float, epochs: int
) -> list[dict[str, Any]]:
    """One model job per variant, each in its own process, their ``fit`` epochs taken in
    turn (rotating which goes first): variants compared on the same epoch are at most a few
    seconds apart, so a slow spell of the machine weighs on all of them. Only one process
    computes at a time: set-up, the first epoch (compilation), and the rest of each job
    (``train_on_batch``, ``predict``) also run one after another."""
    started: list[_PausingJob] = []
    try:
        for job in jobs:
            started.append(_PausingJob(job, env, timeout))
            started[-1].wait_for(PAUSED)  # built and ready to fit
        for epoch in range(epochs):
            shift = epoch % len(started)
            for worker in started[shift:] + started[:shift]:
                worker.go()
                worker.wait_for(PAUSED)
        results = []
        for worker in started:
            worker.go()
            results.append(json.loads(worker.wait_for(MARKER)))
        return results
    finally:
        for worker in started:
            worker.close()


def collect(
    backend: str,
    jobs: tuple[str, ...],
    plans: dict[str, Plan],
    repeats: int,
    threads: int | None,
    timeout: float,
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Run every job ``repeats`` times, the variants alternating (start-up: one process
    after another; models: epochs in turn, see :func:`run_interleaved`); results per
    (job, variant)."""
    env = child_env(backend, threads)
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for round_index in range(repeats):
        shift = round_index % len(VARIANTS)
        order = VARIANTS[shift:] + VARIANTS[:shift]
        for job_name in jobs:
            start = time.perf_counter()
            specs = [{"variant": v, "backend": backend, "job": job_name} for v in order]
            if job_name in plans:
                for spec in specs:
                    spec["plan"] = plans[job_name].to_json()
                found = run_interleaved(specs, env, timeout, plans[job_name].epochs)
            else:
                found = [run_job(spec, env, timeout) for spec in specs]
            for variant, result in zip(order, found, strict=True):
                results.setdefault((job_name, variant), []).append(result)
            steps = ", ".join(
                f"{v} {r['fit_step'] * 1000:.2f}" for v, r in zip(order, found, strict=True)
                if "fit_step" in r
            )  # fmt: skip
            line = f"  round {round_index + 1}/{repeats}: {job_name:8s} "
            line += f"{time.perf_counter() - start:5.1f} s"
            print(line + (f", fit ms/step: {steps}" if steps else ""), file=sys.stderr, flush=True)
    return results


def check(results: dict[tuple[str, str], list[dict[str, Any]]], backend: str) -> list[str]:
    """Sanity checks: each variant loaded only what it should, and the three computed the
    same initial loss from the same weights. Returns the lines to print."""
    allowed = {"katman": {"katman", backend}, "raw": {backend}}
    problems = []
    for (job_name, variant), runs in results.items():
        loaded = set(runs[0]["loaded"])
        if variant in allowed and not loaded <= allowed[variant]:
            problems.append(f"{variant}/{job_name} loaded {sorted(loaded - allowed[variant])}")
    if problems:
        raise RuntimeError("variants loaded modules they should not: " + "; ".join(problems))
    lines = []
    for model in ALL_MODELS:
        if (model, "raw") not in results:
            continue
        losses = {v: results[(model, v)][0]["initial_loss"] for v in VARIANTS}
        spread = max(losses.values()) - min(losses.values())
        verdict = "same" if spread < 1e-4 * max(losses.values()) else "DIFFERENT (check weights)"
        shown = ", ".join(f"{v} {loss:.6f}" for v, loss in losses.items())
        lines.append(f"initial loss, {MODEL_TITLES[model]}: {shown} -> {verdict}")
    return lines


def table(
    results: dict[tuple[str, str], list[dict[str, Any]]], backend: str, plans: dict[str, Plan]
) -> list[str]:
    """The Markdown table of medians and paired ratios; ``max/min`` is the largest ratio
    between the slowest and the fastest round of one variant (how noisy the row was)."""
    lines = [
        f"| measurement | katman | raw {backend} | Keras 3 | katman/raw | katman/Keras | max/min |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    jobs = tuple(dict.fromkeys(job for job, _ in results))
    for job_name, key, title, scale in rows(jobs):
        values = {v: [r[key] * scale for r in results[(job_name, v)]] for v in VARIANTS}
        medians = {v: statistics.median(found) for v, found in values.items()}
        spread = max(max(found) / min(found) if min(found) else 1.0 for found in values.values())
        samples = plans[job_name].predict_samples if job_name in plans else 0
        cells = [title.format(samples=f"{samples:,}")]
        cells += [_number(medians[v]) for v in VARIANTS]
        cells += [_paired_ratio(values["katman"], values[other]) for other in ("raw", "keras")]
        cells.append(f"{spread:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _paired_ratio(katman: list[float], other: list[float]) -> str:
    """The median over rounds of katman's value divided by the other variant's in the same
    round: the two ran minutes apart at most, so a slow spell of the machine that lasts a
    round divides out instead of moving one variant's median."""
    ratios = [k / o for k, o in zip(katman, other, strict=True) if o]
    return f"{statistics.median(ratios):.2f}" if ratios else "n/a"


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _version(distribution: str) -> str:
    for name in (distribution, f"{distribution}-cpu"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def header(
    backend: str,
    plans: dict[str, Plan],
    repeats: int,
    threads: int | None,
    load: list[float],
    device: str,
) -> list[str]:
    versions = ", ".join(f"{d} {_version(d)}" for d in (backend, "keras", "katman"))
    plan_text = "; ".join(
        f"{MODEL_TITLES[m]}: fit {p.epochs} epochs x {p.steps} steps (median after the first), "
        f"train_on_batch {p.batches} calls after {p.warmup}, predict {p.predict_samples:,}"
        for m, p in plans.items()
    )
    return [
        f"katman training benchmark, backend {backend}, "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"{versions}; Python {platform.python_version()}; {os.cpu_count()} CPUs; "
        f"computing on {device}; load average {load[0]:.2f} before",
        f"batch {BATCH_SIZE}; {plan_text}; median of {repeats} interleaved rounds; "
        f"threads: {threads or 'framework defaults'}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--backend", choices=BACKENDS, required=True)
    parser.add_argument("--quick", action="store_true", help="tiny step counts: a smoke run")
    parser.add_argument(
        "--gpu",
        action="store_true",
        help="measure on the GPU: every model, GPU step counts, no start-up job; fails "
        "if the framework sees no GPU",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=ALL_MODELS,
        default=None,
        help=f"models to train (default: {' '.join(MODELS)}; {' '.join(GPU_MODELS)} with --gpu)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="rounds of each job (default 5, 1 with --quick)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="set OMP/MKL/TF thread counts in every variant (default: framework defaults)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every result here")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per job")
    args = parser.parse_args(argv)
    models = tuple(args.models or (GPU_MODELS if args.gpu else MODELS))
    if args.backend == "tensorflow" and args.gpu:
        parser.error("--gpu compares torch and jax (TensorFlow is installed as tensorflow-cpu)")
    if args.backend == "tensorflow" and set(models) & set(RESNETS):
        parser.error("the ResNets have hand-written torch and jax variants only")
    every_plan = QUICK_PLANS if args.quick else GPU_PLANS if args.gpu else DEFAULT_PLANS
    plans = {model: every_plan[model] for model in models}
    jobs = models if args.gpu else ("startup", *models)
    repeats = args.repeats or (1 if args.quick else 5)
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.gpu:
        probe = {"variant": "raw", "backend": args.backend, "job": "device"}
        if run_job(probe, child_env(args.backend, args.threads), args.timeout)["device"] == "cpu":
            raise SystemExit(f"--gpu: {args.backend} sees no GPU on this machine.")
    load_before = list(os.getloadavg())
    start = time.perf_counter()
    results = collect(args.backend, jobs, plans, repeats, args.threads, args.timeout)
    elapsed = time.perf_counter() - start
    load_after = list(os.getloadavg())
    first = results[(models[0], "raw")][0]
    thread_info, device = first["threads"], first["device"]
    lines = header(args.backend, plans, repeats, args.threads, load_before, device)
    lines += table(results, args.backend, plans)
    lines += check(results, args.backend)
    lines.append(
        f"framework threading: {thread_info or 'XLA defaults (all cores)'}; "
        f"load average {load_after[0]:.2f} after; {elapsed:.0f} s in all"
    )
    print("\n".join(lines))
    if args.json is not None:
        serial = {f"{job}/{variant}": runs for (job, variant), runs in results.items()}
        meta = {
            "backend": args.backend,
            "plans": {m: p.to_json() for m, p in plans.items()},
            "repeats": repeats,
            "threads": args.threads,
            "load_before": load_before,
            "load_after": load_after,
        }
        args.json.write_text(
            json.dumps({"meta": meta, "lines": lines, "results": serial}, indent=1)
        )
