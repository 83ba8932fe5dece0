"""Hypothesis profiles: ``ci`` (bounded, derandomized: the same examples every run) and
``deep`` (many more examples), chosen with the ``HYPOTHESIS_PROFILE`` environment variable."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

CI = "ci"
DEEP = "deep"


def register_profiles() -> None:
    settings.register_profile(
        CI,
        max_examples=40,
        derandomize=True,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile(DEEP, max_examples=1000, deadline=None, print_blob=True)


def load_profile() -> str:
    """Register the profiles and load the one ``HYPOTHESIS_PROFILE`` names (default ``ci``)."""
    register_profiles()
    name = os.environ.get("HYPOTHESIS_PROFILE", CI)
    settings.load_profile(name)
    return name
