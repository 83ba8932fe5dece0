"""What ``import katman`` and the first tensor add on top of importing the framework alone.

Each measurement is a fresh process; the two variants alternate (A B A B ...) and the medians
are compared. Usage::

    python -m benchmarks.import_overhead --backend torch --repeats 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

FRAMEWORK_CODE = {
    "torch": "import torch; torch.as_tensor([1.0]) + 1",
    "jax": "import jax, jax.numpy as jnp; (jnp.asarray([1.0]) + 1).block_until_ready()",
    "tensorflow": "import tensorflow as tf; tf.convert_to_tensor([1.0]) + 1",
}
KATMAN_CODE = "import katman; katman.ops.add(katman.ops.convert_to_tensor([1.0]), 1)"
TIMER = "import time; _t = time.perf_counter(); {code}; print(time.perf_counter() - _t)"


def measure(code: str, env: dict[str, str]) -> float:
    result = subprocess.run(
        [sys.executable, "-c", TIMER.format(code=code)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=sorted(FRAMEWORK_CODE), required=True)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ, "KATMAN_BACKEND": args.backend}
    raw, katman = [], []
    for _ in range(args.repeats):
        raw.append(measure(FRAMEWORK_CODE[args.backend], env))
        katman.append(measure(KATMAN_CODE, env))
    raw_median, katman_median = statistics.median(raw), statistics.median(katman)
    print(
        f"{args.backend}: framework alone {raw_median * 1000:.0f} ms, through katman "
        f"{katman_median * 1000:.0f} ms, katman adds {(katman_median - raw_median) * 1000:.0f} ms "
        f"(median of {args.repeats}, interleaved)"
    )


if __name__ == "__main__":
    main()
