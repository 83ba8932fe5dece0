"""katman's conformance suite: checks any registered backend against NumPy references.

Runnable as ``katman conformance --backend NAME``; third parties may opt in from their own
pytest runs. Its hypothesis profiles (``katman.conformance.profiles``) are shared with
katman's own tests.
"""
