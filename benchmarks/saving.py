"""Save and load times of a ~25 M-parameter model: katman against torch.save/torch.load of
the same weights and Keras 3's ``.keras`` files, measured in one run, plus the peak memory
that loading takes.

The model is an MLP 1024 -> 4096 -> 4096 -> 1024 (25.2 M float32 parameters, 101 MB). One
process holds the katman model (on ``--backend``) and a state dict of equal torch tensors; a
Keras 3 worker process (``KERAS_BACKEND`` = the same backend) holds the same architecture.
Every repeat runs each operation once, in turn (katman, torch, Keras, katman, ...), and the
table shows medians. Files are written to a temporary folder on the same disk and read back
from the page cache (warm reads). katman's saves flush the file to disk (``fsync``) before
renaming it into place; torch and Keras do not, so torch.save is also timed with an fsync.

Peak memory: for each loader a fresh process imports its framework, then loads the file;
the table shows how far the resident set rises during the load (the peak, from Linux's
``VmHWM`` reset just before), split into anonymous memory (copies) and pages of the file
mapped in (shared with the page cache), against the size of the weights. Usage::

    python -m benchmarks.saving --backend torch [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIZES = (1024, 4096, 4096, 1024)
QUICK_SIZES = (64, 256, 256, 64)
MARKER = "SAVING-BENCHMARK "


# -- the model in each library -------------------------------------------------------------
def katman_model(sizes: tuple[int, ...]) -> Any:
    import katman

    stack = [katman.Input(shape=(sizes[0],))]
    for index, units in enumerate(sizes[1:]):
        last = index == len(sizes) - 2
        stack.append(katman.layers.Dense(units, activation=None if last else "relu"))
    return katman.Sequential(stack)


def keras_model(sizes: tuple[int, ...]) -> Any:
    import keras

    stack = [keras.Input(shape=(sizes[0],))]
    for index, units in enumerate(sizes[1:]):
        last = index == len(sizes) - 2
        stack.append(keras.layers.Dense(units, activation=None if last else "relu"))
    return keras.Sequential(stack)


def parameter_bytes(sizes: tuple[int, ...]) -> int:
    return 4 * sum(a * b + b for a, b in itertools.pairwise(sizes))


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def settled(model: Any) -> Any:
    """Wait for the model's weights to be computed: jax dispatches work asynchronously (the
    other backends run eagerly on the CPU)."""
    if os.environ.get("KATMAN_BACKEND") == "jax":
        import jax

        jax.block_until_ready([weight.value for weight in model.weights])
    return model


def fsynced(path: Path) -> None:
    with open(path, "rb+") as stream:
        os.fsync(stream.fileno())


# -- memory ------------------------------------------------------------------------------------
def memory() -> dict[str, float]:
    """The resident set now (and its peak since the last reset), in MB, from /proc."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                found[key] = int(value.split()[0]) / 1024
    return found


class PeakWatcher:
    """Peak resident memory while a block runs: the kernel's high-water mark (reset on
    entry) and, sampled every millisecond, the peak of anonymous memory alone."""

    def __enter__(self) -> PeakWatcher:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM to the current resident set
        self.before = memory()
        self.anon_peak = self.before["RssAnon"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.anon_peak = max(self.anon_peak, memory()["RssAnon"])

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.after = memory()
        self.anon_peak = max(self.anon_peak, self.after["RssAnon"])

    def report(self, weights_mb: float) -> dict[str, float]:
        rise = self.after["VmHWM"] - self.before["VmRSS"]
        return {
            "peak_rise_mb": rise,
            "peak_rise_x": rise / weights_mb,
            "anon_peak_rise_mb": self.anon_peak - self.before["RssAnon"],
            "anon_kept_mb": self.after["RssAnon"] - self.before["RssAnon"],
            "file_mapped_mb": self.after["RssFile"] - self.before["RssFile"],
        }


PROBES = {
    "katman load_model": "katman",
    "katman load_weights (built model)": "katman",
    "torch.load": "torch",
    "torch.load(mmap=True)": "torch",
    "Keras load_model": "keras",
}


def probe(kind: str, backend: str, folder: Path, sizes: tuple[int, ...]) -> dict[str, float]:
    """In this (fresh) process: import the framework, then load one file under watch."""
    weights_mb = parameter_bytes(sizes) / 1e6
    if PROBES[kind] == "katman":
        import katman

        katman.ops.convert_to_numpy(katman.ops.ones((2,)))  # the backend is initialized
        if kind == "katman load_model":
            with PeakWatcher() as watch:
                model = settled(katman.models.load_model(folder / "model.katman"))
        else:
            model = katman_model(sizes)
            with PeakWatcher() as watch:
                model.load_weights(folder / "model.weights.safetensors")
                settled(model)
        del model
    elif PROBES[kind] == "torch":
        import torch

        with PeakWatcher() as watch:
            state = torch.load(folder / "state.pt", weights_only=True, mmap="mmap" in kind)
        del state
    else:
        import keras

        keras.ops.ones((2,))
        with PeakWatcher() as watch:
            model = settled(keras.saving.load_model(folder / "model.keras"))
        del model
    return watch.report(weights_mb)


# -- the Keras worker --------------------------------------------------------------------------
def keras_worker(folder: Path, sizes: tuple[int, ...]) -> None:
    """Serve timing commands from the parent, one per stdin line; answer in seconds."""
    import keras
    import numpy as np

    model = keras_model(sizes)
    rng = np.random.default_rng(0)
    model.set_weights([rng.standard_normal(w.shape).astype("float32") for w in model.weights])
    paths = {"model": folder / "model.keras", "weights": folder / "model.weights.h5"}

    def load_weights() -> None:
        model.load_weights(paths["weights"])
        settled(model)

    actions = {
        "save": lambda: model.save(paths["model"]),
        "load": lambda: settled(keras.saving.load_model(paths["model"])),
        "save_weights": lambda: model.save_weights(paths["weights"]),
        "load_weights": load_weights,
    }
    print("ready", flush=True)
    for line in sys.stdin:
        print(timed(actions[line.strip()]), flush=True)


class KerasWorker:
    def __init__(self, backend: str, folder: Path, sizes: tuple[int, ...]) -> None:
        env = {**os.environ, "KERAS_BACKEND": backend}
        command = [sys.executable, "-m", "benchmarks.saving", "--backend", backend]
        command += ["--keras-worker", "--folder", str(folder), "--sizes", _sizes_text(sizes)]
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._expect("ready")

    def _expect(self, what: str) -> str:
        line = self.process.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"the Keras worker stopped (waiting for {what})")
        return line

    def time(self, action: str) -> float:
        self.process.stdin.write(action + "\n")
        self.process.stdin.flush()
        return float(self._expect(action))

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


# -- the run -------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import torch

    import katman

    sizes = args.sizes
    folder = Path(tempfile.mkdtemp(prefix="katman-saving-", dir=args.folder))
    try:
        model = katman_model(sizes)
        rng = np.random.default_rng(0)
        model.set_weights([rng.standard_normal(w.shape).astype("float32") for w in model.weights])
        state = {f"w{i}": torch.from_numpy(w) for i, w in enumerate(model.get_weights())}
        paths = {
            "katman": folder / "model.katman",
            "katman weights": folder / "model.weights.safetensors",
            "torch": folder / "state.pt",
        }
        keras = KerasWorker(args.backend, folder, sizes)

        def katman_load_model() -> None:
            settled(katman.models.load_model(paths["katman"]))

        def katman_load_weights() -> None:
            model.load_weights(paths["katman weights"])
            settled(model)

        def torch_save_fsync() -> None:
            torch.save(state, paths["torch"])
            fsynced(paths["torch"])

        local: dict[str, tuple[Callable[[], Any], str]] = {
            "katman model.save": (lambda: model.save(paths["katman"]), "katman"),
            "katman load_model": (katman_load_model, "katman"),
            "katman save_weights": (
                lambda: model.save_weights(paths["katman weights"]),
                "katman weights",
            ),
            "katman load_weights": (katman_load_weights, "katman weights"),
            "torch.save": (lambda: torch.save(state, paths["torch"]), "torch"),
            "torch.save + fsync": (torch_save_fsync, "torch"),
            "torch.load": (lambda: torch.load(paths["torch"], weights_only=True), "torch"),
            "torch.load(mmap=True)": (
                lambda: torch.load(paths["torch"], weights_only=True, mmap=True),
                "torch",
            ),
        }
        in_keras = {
            "Keras model.save (.keras)": ("save", "keras"),
            "Keras load_model": ("load", "keras"),
            "Keras save_weights (.weights.h5)": ("save_weights", "keras w"),
            "Keras load_weights": ("load_weights", "keras w"),
        }
        operations: dict[str, tuple[Callable[[], float], str]] = {
            **{
                name: (functools.partial(timed, action), key)
                for name, (action, key) in local.items()
            },
            **{
                name: (functools.partial(keras.time, command), key)
                for name, (command, key) in in_keras.items()
            },
        }
        files = {**paths, "keras": folder / "model.keras", "keras w": folder / "model.weights.h5"}
        # One round first, unmeasured: files exist and every code path has run once.
        for measure, _ in operations.values():
            measure()
        times: dict[str, list[float]] = {name: [] for name in operations}
        for _ in range(args.repeats):
            for name, (measure, _) in operations.items():
                times[name].append(measure())
        keras.close()
        results: dict[str, Any] = {
            "backend": args.backend,
            "parameters": sum(int(np.prod(w.shape)) for w in model.weights),
            "weights_mb": parameter_bytes(sizes) / 1e6,
            "repeats": args.repeats,
            "load_average": os.getloadavg(),
            "operations": {},
        }
        for name, (_, key) in operations.items():
            size_mb = files[key].stat().st_size / 1e6
            median = statistics.median(times[name])
            results["operations"][name] = {
                "median_s": median,
                "min_s": min(times[name]),
                "max_s": max(times[name]),
                "file_mb": size_mb,
                "mb_per_s": size_mb / median,
            }
        results["memory"] = {
            kind: _probe_in_fresh_process(kind, args.backend, folder, sizes) for kind in PROBES
        }
        return results
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _probe_in_fresh_process(
    kind: str, backend: str, folder: Path, sizes: tuple[int, ...]
) -> dict[str, float]:
    env = {**os.environ, "KATMAN_BACKEND": backend, "KERAS_BACKEND": backend}
    command = [sys.executable, "-m", "benchmarks.saving", "--backend", backend]
    command += ["--probe", kind, "--folder", str(folder), "--sizes", _sizes_text(sizes)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise RuntimeError(f"memory probe {kind!r} failed:\n{result.stderr[-3000:]}")


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Saving and loading, {results['backend']} backend: {results['parameters'] / 1e6:.1f} M "
        f"float32 parameters ({results['weights_mb']:.0f} MB); median of {results['repeats']} "
        f"interleaved repeats (load average {results['load_average'][0]:.1f})",
        "",
        "| operation | median s | min s | max s | MB/s | file MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in results["operations"].items():
        lines.append(
            f"| {name} | {row['median_s']:.3f} | {row['min_s']:.3f} | {row['max_s']:.3f} | "
            f"{row['mb_per_s']:.0f} | {row['file_mb']:.1f} |"
        )
    lines += [
        "",
        "Memory while loading (fresh process each; MB, and the rise as a multiple of the "
        "weights' size):",
        "",
        "| loader | peak RSS rise | x weights | anonymous peak rise | anonymous kept | "
        "file pages mapped |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, row in results["memory"].items():
        lines.append(
            f"| {kind} | {row['peak_rise_mb']:.0f} | {row['peak_rise_x']:.2f} | "
            f"{row['anon_peak_rise_mb']:.0f} | {row['anon_kept_mb']:.0f} | "
            f"{row['file_mapped_mb']:.0f} |"
        )
    return "\n".join(lines)


def _sizes_text(sizes: tuple[int, ...]) -> str:
    return ",".join(map(str, sizes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("torch", "jax", "tensorflow"), required=True)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a tiny model (a smoke run)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--folder", help="where to write the files (default: the temp folder)")
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    parser.add_argument("--keras-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--probe", choices=sorted(PROBES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sizes:
        args.sizes = tuple(int(s) for s in args.sizes.split(","))
    else:
        args.sizes = QUICK_SIZES if args.quick else SIZES
    os.environ["KATMAN_BACKEND"] = args.backend
    os.environ["KERAS_BACKEND"] = args.backend
    if args.keras_worker:
        keras_worker(Path(args.folder), args.sizes)
    elif args.probe:
        result = probe(args.probe, args.backend, Path(args.folder), args.sizes)
        print(MARKER + json.dumps(result), flush=True)
    else:
        results = run(args)
        print(table(results))
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
