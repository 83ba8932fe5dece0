"""``katman quickstart``, the README's first command, on the active backend: a real training
run on the bundled digits that must reach 95% test accuracy."""

from __future__ import annotations

import re
import sys

import pytest
from conftest import clean_env, run


@pytest.mark.slow
def test_quickstart_trains_to_95_percent(active_backend):
    env = clean_env(KATMAN_BACKEND=active_backend)
    result = run([sys.executable, "-m", "katman", "quickstart", "--verbose", "2"], env, 600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'Model: "digits_convnet"' in out and "Total params:" in out
    assert "Epoch 20/20" in out and "val_accuracy:" in out
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
    assert accuracy >= 0.95, out
