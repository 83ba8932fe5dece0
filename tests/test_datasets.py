"""katman.datasets.digits: the bundled UCI 8x8 digits, split as Keras's dataset loaders do.

Keras has no loader for this dataset, so there is no Keras oracle here: the checks are the
dataset's published facts (1,797 samples, per-class counts, pixels 0..16) and the split's
promises (every sample exactly once, stratified, deterministic per seed).
"""

from __future__ import annotations

import doctest
import fnmatch
import io
import math
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, clean_env, run_python
from hypothesis import given, settings
from hypothesis import strategies as st

import katman.datasets
from katman.datasets import digits

CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Samples as sorted rows of 65 integers (64 pixels, then the label): a comparable multiset."""
    table = np.concatenate([x.reshape(len(x), 64), y[:, None]], axis=1).astype(np.int64)
    return table[np.lexsort(table.T[::-1])]


@pytest.fixture(scope="module")
def full() -> tuple[np.ndarray, np.ndarray]:
    return digits._read_arrays(digits._data_file())


def test_default_split_shapes_dtypes_and_values():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1438, 8, 8) and y_train.shape == (1438,)
    assert x_test.shape == (359, 8, 8) and y_test.shape == (359,)
    for array in (x_train, y_train, x_test, y_test):
        assert isinstance(array, np.ndarray) and array.dtype == np.uint8
    for x in (x_train, x_test):
        assert x.min() == 0 and x.max() == 16
    for y in (y_train, y_test):
        assert sorted(np.unique(y).tolist()) == list(range(10))


def test_reachable_as_katman_datasets_digits():
    assert katman.datasets.digits is digits
    assert "digits" in dir(katman.datasets)
    with pytest.raises(AttributeError, match=r"no attribute 'mnist'.*datasets: \['digits'\]"):
        _ = katman.datasets.mnist


def test_the_bundled_data_matches_the_published_facts(full):
    images, labels = full
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert np.bincount(labels).tolist() == CLASS_COUNTS
    assert images.min() == 0 and images.max() == 16
    # The first sample of optdigits.tes is a 0: a ring of ink around an empty centre.
    assert labels[0] == 0
    assert images[0, 0].tolist() == [0, 0, 5, 13, 9, 1, 0, 0]
    assert images[0, 3:5, 3:5].max() == 0


@pytest.mark.parametrize(("test_split", "seed"), [(0.2, 113), (0.5, 0), (0.05, 7), (0.93, 2**40)])
def test_every_sample_lands_exactly_once(full, test_split, seed):
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=test_split, seed=seed)
    assert len(x_train) + len(x_test) == 1797
    together = rows(np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test]))
    np.testing.assert_array_equal(together, rows(*full))


@settings(max_examples=15)
@given(
    test_split=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**32 - 1),
)
def test_split_is_stratified(test_split, seed):
    (_, y_train), (_, y_test) = digits.load_data(test_split=test_split, seed=seed)
    assert len(y_test) == math.floor(1797 * test_split + 0.5)
    test_counts = np.bincount(y_test, minlength=10)
    train_counts = np.bincount(y_train, minlength=10)
    np.testing.assert_array_equal(test_counts + train_counts, CLASS_COUNTS)
    # Each class is within one sample of its exact share.
    assert np.all(np.abs(test_counts - np.array(CLASS_COUNTS) * test_split) < 1)


def test_split_is_deterministic_for_a_seed_and_differs_across_seeds():
    first, second = digits.load_data(seed=5), digits.load_data(seed=5)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    (_, y_train), (x_test, y_test) = digits.load_data(seed=6)
    assert not np.array_equal(x_test, first[1][0])
    assert not np.array_equal(y_train, first[0][1])
    # Another seed picks other samples for the test set, not only another order.
    assert not np.array_equal(rows(x_test, y_test), rows(*first[1]))


def test_default_seed_is_113():
    (x_a, y_a), (x_b, y_b) = digits.load_data()
    (x_c, y_c), (x_d, y_d) = digits.load_data(test_split=0.2, seed=113)
    for a, b in ((x_a, x_c), (y_a, y_c), (x_b, x_d), (y_b, y_d)):
        np.testing.assert_array_equal(a, b)


def test_samples_are_shuffled(full):
    (x_train, y_train), _ = digits.load_data(test_split=0.1, seed=1)
    # Not grouped by class, and not in the file's order.
    assert np.count_nonzero(np.diff(y_train.astype(np.int64))) > 1000
    assert not np.array_equal(x_train[:50], full[0][:50])


def test_each_call_returns_new_arrays():
    (x_train, y_train), _ = digits.load_data()
    x_train[:] = 99
    y_train[:] = 99
    (x_again, y_again), _ = digits.load_data()
    assert x_again.max() == 16 and y_again.max() == 9


@pytest.mark.parametrize(
    "test_split", [0, 0.0, 1, 1.0, -0.2, 1.5, float("nan"), float("inf"), True, "0.2", None]
)
def test_bad_test_split_is_a_clear_error(test_split):
    with pytest.raises(
        ValueError,
        match=r"load_data: test_split must be a number strictly between 0 and 1.*received",
    ):
        digits.load_data(test_split=test_split)


@pytest.mark.parametrize(("test_split", "empty"), [(1e-4, "test"), (0.9999, "training")])
def test_test_split_leaving_a_split_empty_is_a_clear_error(test_split, empty):
    with pytest.raises(ValueError, match=f"leaves the {empty} split empty"):
        digits.load_data(test_split=test_split)


def test_smallest_and_largest_useful_test_split():
    (x_train, _), (x_test, _) = digits.load_data(test_split=1 / 1797)
    assert (len(x_train), len(x_test)) == (1796, 1)
    (x_train, _), (x_test, _) = digits.load_data(test_split=1796 / 1797)
    assert (len(x_train), len(x_test)) == (1, 1796)


@pytest.mark.parametrize("seed", [-1, 1.5, None, True, "3"])
def test_bad_seed_is_a_clear_error(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer, received"):
        digits.load_data(seed=seed)


def test_numpy_scalars_are_accepted():
    (x_a, _), _ = digits.load_data(test_split=np.float32(0.25), seed=np.int64(3))
    (x_b, _), _ = digits.load_data(test_split=0.25, seed=3)
    np.testing.assert_array_equal(x_a, x_b)


def write_npz(path: Path, **arrays: np.ndarray) -> Path:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    return path


def test_missing_data_file_is_a_clear_error(tmp_path, monkeypatch):
    missing = tmp_path / "digits.npz"
    monkeypatch.setattr(digits, "_data_file", lambda: missing)
    with pytest.raises(
        FileNotFoundError, match=f"cannot read the data file {re.escape(str(missing))}.*reinstall"
    ):
        digits.load_data()


def test_garbage_data_file_is_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "digits.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip archive")
    monkeypatch.setattr(digits, "_data_file", lambda: bad)
    with pytest.raises(
        ValueError, match=f"the data file {re.escape(str(bad))} is corrupted.*reinstall"
    ):
        digits.load_data()


def test_truncated_data_file_is_a_clear_error(tmp_path):
    whole = digits._data_file().read_bytes()
    bad = tmp_path / "digits.npz"
    bad.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=f"the data file {re.escape(str(bad))} is corrupted"):
        digits._read_arrays(bad)


def test_data_file_with_missing_array_is_a_clear_error(tmp_path, full):
    bad = write_npz(tmp_path / "digits.npz", images=full[0])
    with pytest.raises(ValueError, match=re.escape(f"{bad} is corrupted (KeyError")):
        digits._read_arrays(bad)


def test_data_file_with_wrong_shape_or_dtype_is_a_clear_error(tmp_path, full):
    images, labels = full
    bad = write_npz(tmp_path / "a.npz", images=images.astype(np.int64), labels=labels)
    with pytest.raises(
        ValueError, match=re.escape("'images' has shape (1797, 8, 8) and dtype int64, expected")
    ):
        digits._read_arrays(bad)
    bad = write_npz(tmp_path / "b.npz", images=images, labels=labels[:-1])
    with pytest.raises(ValueError, match=re.escape("'labels' has shape (1796,)")):
        digits._read_arrays(bad)


def test_data_file_with_changed_values_is_a_clear_error(tmp_path, full):
    images, labels = full[0].copy(), full[1].copy()
    images[100, 4, 4] ^= 1
    bad = write_npz(tmp_path / "digits.npz", images=images, labels=labels)
    with pytest.raises(ValueError, match=re.escape(f"{bad} is corrupted: its contents' SHA-256")):
        digits._read_arrays(bad)


def test_pickled_data_is_refused(tmp_path, full):
    objects = np.empty(1797, dtype=object)
    bad = write_npz(tmp_path / "digits.npz", images=full[0], labels=objects)
    with pytest.raises(ValueError, match=re.escape(f"{bad} is corrupted (ValueError") + ".*pickle"):
        digits._read_arrays(bad)


def test_data_file_is_a_package_resource():
    data = resources.files("katman.datasets") / "data"
    assert (data / "digits.npz").is_file()
    assert digits._data_file().is_file()
    note = (data / "README.md").read_text(encoding="utf-8")
    for fact in ("CC BY 4.0", "https://doi.org/10.24432/C50P49", "Alpaydin", "Kaynak"):
        assert fact in note


def test_wheel_ships_the_data_file_and_its_licence_note():
    # The wheel's contents come from pyproject's package-data: every file in core/datasets/data/
    # matches a pattern of the katman.datasets entry, so a wheel install has the same resources.
    from setuptools.config.pyprojecttoml import read_configuration

    patterns = read_configuration(ROOT / "pyproject.toml")["tool"]["setuptools"]["package-data"]
    shipped = patterns.get("katman.datasets", [])
    folder = ROOT / "core" / "datasets"
    files = [p.relative_to(folder).as_posix() for p in (folder / "data").iterdir() if p.is_file()]
    assert sorted(files) == ["data/README.md", "data/digits.npz"]
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in shipped), (name, shipped)


def test_loading_imports_no_framework(home):
    code = (
        "import sys\n"
        "from katman.datasets import digits\n"
        "(x, y), _ = digits.load_data()\n"
        "print(x.shape, sorted(m for m in ('torch', 'jax', 'tensorflow', 'keras') if m in sys.modules))"
    )
    result = run_python(code, clean_env(KATMAN_HOME=str(home)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(1438, 8, 8) []"


@pytest.mark.parametrize("module", [katman.datasets, digits], ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result


def test_description_states_the_facts():
    for fact in ("1,797", "CC BY 4.0", "10.24432/C50P49", "0 to 16", "8x8", "Alpaydin"):
        assert fact in digits.DESCRIPTION
