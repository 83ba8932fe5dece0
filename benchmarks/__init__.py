"""katman's performance harness (run a module with ``python -m benchmarks.NAME``)."""
