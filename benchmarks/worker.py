"""One measurement in a fresh process; the parent (``python -m benchmarks``) starts it as::

    python -m benchmarks.worker '{"variant": "katman", "backend": "torch", "job": "mlp",
                                  "plan": {...}}'

``job`` is ``"startup"`` (import and build both models), a model name (build, compile,
then time ``fit``, ``train_on_batch`` and ``predict``) or ``"device"`` (only report what the
framework computes on). A model job with ``"interleaved": true`` prints :data:`PAUSED` and
waits for a line on stdin before ``fit`` and after every epoch, so that the parent can run
the variants' epochs in turn. The result is one JSON line on stdout,
after :data:`MARKER`, with the peak resident set of the process and the frameworks it loaded.
Only the standard library is imported before the clock starts.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

MARKER = "BENCHMARK-RESULT "
#: what a model job prints at each pause, before it waits for a line on stdin
PAUSED = "BENCHMARK-PAUSED"
#: variant -> (module under benchmarks/, keyword arguments its functions take)
VARIANTS: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    backend: {
        "katman": ("keras_side", {"library": "katman"}),
        "raw": (f"raw_{backend}", {}),
        "keras": ("keras_side", {"library": "keras"}),
    }
    for backend in ("torch", "jax", "tensorflow")
}
WATCHED_MODULES = ("torch", "jax", "tensorflow", "keras", "katman")


def thread_settings() -> dict[str, Any]:
    """The threading the framework in this process runs with (defaults are left alone)."""
    settings: dict[str, Any] = {}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        settings["torch_threads"] = torch.get_num_threads()
        settings["torch_interop_threads"] = torch.get_num_interop_threads()
    if "tensorflow" in sys.modules:
        threading = sys.modules["tensorflow"].config.threading
        settings["tf_intra_op_threads"] = threading.get_intra_op_parallelism_threads()
        settings["tf_inter_op_threads"] = threading.get_inter_op_parallelism_threads()
    return settings


def device_name() -> str:
    """What the framework in this process computes on: ``cpu`` or the GPU's name."""
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    if "jax" in sys.modules:
        device = sys.modules["jax"].devices()[0]
        return "cpu" if device.platform == "cpu" else device.device_kind
    if "tensorflow" in sys.modules:
        gpus = sys.modules["tensorflow"].config.list_logical_devices("GPU")
        return gpus[0].name if gpus else "cpu"
    return "cpu"


def run(job: dict[str, Any], pause: Callable[[], None] | None = None) -> dict[str, Any]:
    start = time.perf_counter()
    name, kwargs = VARIANTS[job["backend"]][job["variant"]]
    module = importlib.import_module(f"benchmarks.{name}")
    if job["job"] == "device":
        result: dict[str, Any] = {}  # importing the variant's module loaded its framework
    elif job["job"] == "startup":
        module.startup(**kwargs)
        result = {"startup": time.perf_counter() - start}
    else:
        from benchmarks import workload

        model = job["job"]
        runner = module.Runner(model=model, weights=workload.initial_weights(model), **kwargs)
        result = workload.measure(model, workload.Plan(**job["plan"]), runner, pause)
    # Linux reports kilobytes (macOS bytes: this harness targets Linux).
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["loaded"] = [m for m in WATCHED_MODULES if m in sys.modules]
    result["threads"] = thread_settings()
    result["device"] = device_name()
    return result


def wait_for_parent() -> None:
    """Stop until the parent writes a line: it lets one variant run at a time."""
    print(PAUSED, flush=True)
    if not sys.stdin.readline():
        raise SystemExit("benchmark worker: the parent closed stdin")


def main() -> None:
    job = json.loads(sys.argv[1])
    result = run(job, wait_for_parent if job.get("interleaved") else None)
    print(MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
