"""Where a training step's time goes: wall and CPU time per step of each variant, and
optionally katman's step under cProfile (self time and calls per step, by function).

CPU time per step (the process's, all threads) is steadier than wall time on a busy
machine; with ``--threads 1`` it is the single-threaded work a step costs. For ``fit`` it
also prints the fastest epoch's wall time per step, the least disturbed by other work on a
shared machine. Usage::

    python -m benchmarks.profile_step --backend torch --model mlp --threads 1
    python -m benchmarks.profile_step --backend jax --mode train_on_batch --cprofile

For sampling without instrumentation overhead, run one variant under py-spy::

    py-spy record --native -f raw -o out.txt -- python -m benchmarks.profile_step \\
        --backend torch --variants katman --in-process
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import os
import pstats
import subprocess
import sys
import time
from typing import Any

from benchmarks.training import BACKENDS, ROOT, VARIANTS, child_env
from benchmarks.workload import (
    ALL_MODELS,
    BATCH_SIZE,
    RESNETS,
    Plan,
    initial_weights,
    train_batches,
    training_data,
)

STEPS = 10  # batches per pass over the data


def make_runner(backend: str, variant: str, model: str) -> Any:
    import importlib

    from benchmarks.worker import VARIANTS as MODULES

    name, kwargs = MODULES[backend][variant]
    module = importlib.import_module(f"benchmarks.{name}")
    return module.Runner(model=model, weights=initial_weights(model), **kwargs)


def profile(
    backend: str, variant: str, model: str, mode: str, seconds: float, use_cprofile: bool
) -> dict[str, Any]:
    """Run ``mode`` for about ``seconds`` after warming up; wall and CPU milliseconds per
    step, and the cProfile table if asked.

    ``fit`` runs as one call of many epochs, timed from the end of its first epoch to the
    end of its last (so ``fit``'s own set-up is left out, as in ``python -m benchmarks``);
    ``train_on_batch`` calls are timed one after another, their per-call work included.
    """
    runner = make_runner(backend, variant, model)
    plan = Plan(steps=STEPS, epochs=1, batches=STEPS, warmup=0, predict_samples=BATCH_SIZE)
    data = training_data(model, plan)
    batches = train_batches(data, STEPS)
    profiler = cProfile.Profile() if use_cprofile else None
    clock: list[tuple[float, float]] = []

    def on_epoch_end() -> None:
        runner.sync()
        clock.append((time.perf_counter(), time.process_time()))
        if len(clock) == 1 and profiler is not None:
            profiler.enable()

    def train_on_batches() -> None:
        for x, y in batches:
            runner.train_on_batch(x, y)

    # Warm up (compile) and estimate how many epochs of STEPS fill ``seconds``.
    runner.fit(data["x"], data["y"], 1, lambda: None)
    train_on_batches()
    start = time.perf_counter()
    runner.fit(data["x"], data["y"], 1, runner.sync)
    epochs = 2 + int(seconds / max(time.perf_counter() - start, 1e-3))
    if mode == "fit":
        runner.fit(data["x"], data["y"], epochs, on_epoch_end)  # timed from epoch 1's end
    else:
        clock.append((time.perf_counter(), time.process_time()))
        if profiler is not None:
            profiler.enable()
        for _ in range(epochs - 1):
            train_on_batches()
        clock.append((time.perf_counter(), time.process_time()))
    if profiler is not None:
        profiler.disable()
    steps = (epochs - 1) * STEPS
    # The fastest epoch is the step with the least interference from other work on the
    # machine: on a shared machine it moves far less from run to run than the mean.
    epoch_walls = [later[0] - earlier[0] for earlier, later in itertools.pairwise(clock)]
    result: dict[str, Any] = {
        "variant": variant,
        "wall_ms": (clock[-1][0] - clock[0][0]) / steps * 1000,
        "cpu_ms": (clock[-1][1] - clock[0][1]) / steps * 1000,
        "best_ms": min(epoch_walls) / STEPS * 1000 if mode == "fit" else None,
        "steps": steps,
    }
    if profiler is not None:
        result["cprofile"] = _table(pstats.Stats(profiler), steps)
    return result


def _table(stats: pstats.Stats, steps: int, top: int = 40) -> list[str]:
    """The functions with the most self time, per step; paths relative to the repository."""
    rows = []
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (path, line, name), (_, calls, self_time, total, _) in entries:
        where = path.replace(str(ROOT) + "/", "")
        if "site-packages/" in where:
            where = where.split("site-packages/", 1)[1]
        rows.append((self_time, calls, total, f"{where}:{line}({name})"))
    rows.sort(reverse=True)
    lines = [f"{'self us':>9} {'calls':>7} {'total us':>10}  function (per step)"]
    for self_time, calls, total, where in rows[:top]:
        lines.append(
            f"{self_time / steps * 1e6:9.1f} {calls / steps:7.1f} "
            f"{total / steps * 1e6:10.1f}  {where}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_step", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--backend", choices=BACKENDS, required=True)
    parser.add_argument("--model", choices=ALL_MODELS, default="mlp")
    parser.add_argument("--mode", choices=("fit", "train_on_batch"), default="fit")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per variant")
    parser.add_argument("--threads", type=int, default=None, help="as in python -m benchmarks")
    parser.add_argument("--cprofile", action="store_true", help="cProfile katman's step")
    parser.add_argument(
        "--in-process", action="store_true", help="run the first variant here (for py-spy)"
    )
    args = parser.parse_args()
    if args.backend == "tensorflow" and args.model in RESNETS:
        parser.error("the ResNets have hand-written torch and jax variants only")
    if args.in_process:
        # The frameworks are imported below, so the backend and threads still take effect.
        os.environ.update(child_env(args.backend, args.threads))
        result = profile(
            args.backend, args.variants[0], args.model, args.mode, args.seconds, args.cprofile
        )
        print(json.dumps(result))
        return
    env = child_env(args.backend, args.threads)
    print(
        f"{args.backend} {args.model} {args.mode}, threads: {args.threads or 'defaults'} "
        "(ms per step)"
    )
    for variant in args.variants:
        command = [sys.executable, "-m", "benchmarks.profile_step", "--in-process"]
        command += ["--backend", args.backend, "--model", args.model, "--mode", args.mode]
        command += ["--variants", variant, "--seconds", str(args.seconds)]
        if args.cprofile and variant == "katman":
            command.append("--cprofile")
        process = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if process.returncode:
            raise SystemExit(f"{variant} failed:\n{process.stderr[-3000:]}")
        result = json.loads(process.stdout.strip().splitlines()[-1])
        best = result["best_ms"]
        print(
            f"  {variant:7s} wall {result['wall_ms']:8.2f}  CPU {result['cpu_ms']:8.2f}  "
            + (f"best epoch {best:8.2f}  " if best is not None else "")
            + f"({result['steps']} steps)"
        )
        for line in result.get("cprofile", []):
            print("    " + line)


if __name__ == "__main__":
    main()
