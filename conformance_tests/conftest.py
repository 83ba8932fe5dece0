"""Loaded when pytest runs the suite: hypothesis profiles and the per-op report."""

from katman.conformance.profiles import load_profile
from katman.conformance.report import pytest_configure

load_profile()

__all__ = ["pytest_configure"]  # a conftest hook: registers the per-op summary
