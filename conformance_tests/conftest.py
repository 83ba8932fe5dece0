"""Loaded when pytest runs the suite: hypothesis profiles and the per-op report."""

from katman.conformance.profiles import load_profile

load_profile()

pytest_plugins = ["katman.conformance.report"]
