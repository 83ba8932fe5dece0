"""``python -m benchmarks --backend NAME``: the training benchmark (benchmarks/training.py)."""

from benchmarks.training import main

main()
