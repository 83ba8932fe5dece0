"""BackupAndRestore: a training process killed with SIGKILL in the middle of an epoch and
restarted ends with exactly the weights of an uninterrupted run; interrupted fits keep the
backup; damaged backups are refused with ModelFileError."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, clean_env

import katman
from katman import layers
from katman.errors import ModelFileError

SCRIPT = ROOT / "tests" / "scripts" / "train_with_backup.py"
EPOCHS = 3
STEPS_PER_EPOCH = 35  # 280 training samples (after validation_split) in batches of 8
BACKUP = katman.callbacks.BackupAndRestore.LATEST


def backup_state(path: Path) -> dict | None:
    """The epoch/step a backup records, read straight from the file (None if unreadable)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("training.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def script_env(active_backend: str) -> dict[str, str]:
    return clean_env(KATMAN_BACKEND=active_backend, PYTHONHASHSEED="0")


def run_script(workdir: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    workdir.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(workdir), "--epochs", str(EPOCHS), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def kill_when(workdir: Path, env: dict[str, str], ready, *extra: str) -> dict:
    """Start the script, SIGKILL it as soon as its backup's state satisfies ``ready``, and
    return the state the backup left on disk."""
    workdir.mkdir(exist_ok=True)
    backup = workdir / "backup" / BACKUP
    with open(workdir / "killed.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(workdir), "--epochs", str(EPOCHS), *extra],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and process.poll() is None:
                state = backup_state(backup) if backup.exists() else None
                if state is not None and ready(state):
                    break
                time.sleep(0.01)
            assert process.poll() is None, (
                "the training process ended before it could be killed:\n"
                + (workdir / "killed.log").read_text()
            )
            os.kill(process.pid, signal.SIGKILL)
            assert process.wait(timeout=60) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert not (workdir / "final.npz").exists()
    state = backup_state(backup)
    assert state is not None, "the backup is unreadable after the kill"
    return state


def assert_same_final_state(reference: Path, resumed: Path) -> None:
    expected, got = np.load(reference / "final.npz"), np.load(resumed / "final.npz")
    assert sorted(got.files) == sorted(expected.files)
    for name in expected.files:
        assert got[name].dtype == expected[name].dtype, name
        assert np.array_equal(got[name], expected[name]), f"{name} differs after the resume"


@pytest.mark.slow
def test_a_run_killed_mid_epoch_resumes_to_bit_identical_weights(tmp_path, active_backend):
    env = script_env(active_backend)
    reference = run_script(tmp_path / "reference", env, "--save-freq", "3")
    assert reference.returncode == 0, reference.stderr

    resumed = tmp_path / "resumed"
    # The delay (per batch) only gives the test time to kill the process mid-epoch.
    options = ("--save-freq", "3", "--delay", "0.02")
    state = kill_when(resumed, env, lambda s: s["epoch"] >= 1 and s["step"] > 0, *options)
    assert 1 <= state["epoch"] < EPOCHS
    assert 0 < state["step"] < STEPS_PER_EPOCH, state  # inside an epoch, not at its end

    restarted = run_script(resumed, env, *options)
    assert restarted.returncode == 0, restarted.stderr
    assert not (resumed / "backup").exists()  # deleted at the end (delete_checkpoint)
    # Weights (with the dropout seed generator's state) and optimizer state, bit for bit.
    assert_same_final_state(tmp_path / "reference", resumed)

    # The restarted fit trained the rest: the interrupted epoch (from its step on, with the
    # metrics it restored) and the later ones, with exactly the reference's logs.
    full = json.loads((tmp_path / "reference" / "history.json").read_text())
    rest = json.loads((resumed / "history.json").read_text())
    assert full["epoch"] == list(range(EPOCHS))
    assert rest["epoch"] == list(range(state["epoch"], EPOCHS))
    for key, values in full["history"].items():
        assert rest["history"][key] == values[state["epoch"] :], key


@pytest.mark.slow
def test_a_run_killed_after_an_epoch_backup_resumes_exactly(tmp_path, active_backend):
    env = script_env(active_backend)
    reference = run_script(tmp_path / "reference", env, "--save-freq", "epoch")
    assert reference.returncode == 0, reference.stderr

    resumed = tmp_path / "resumed"
    options = ("--save-freq", "epoch", "--delay", "0.02")
    state = kill_when(resumed, env, lambda s: True, *options)
    assert (state["epoch"], state["step"]) == (1, 0)
    restarted = run_script(resumed, env, *options)
    assert restarted.returncode == 0, restarted.stderr
    assert_same_final_state(tmp_path / "reference", resumed)
    assert json.loads((resumed / "history.json").read_text())["epoch"] == [1, 2]


# -- in-process behaviour ------------------------------------------------------------------
def make_model(seed: int = 7) -> katman.Model:
    # Named layers: a model built again in this process has the same layer names.
    # The framework is imported before seeding: importing jax draws from NumPy's global
    # generator (jax/_src/clusters/k8s_cluster.py), which would make the first run of the
    # process shuffle differently from the later ones.
    katman.ops.convert_to_tensor(0.0)
    katman.utils.set_random_seed(seed)
    model = katman.Sequential(
        [
            layers.Input((4,)),
            layers.Dense(8, activation="relu", name="hidden"),
            layers.Dropout(0.2, name="dropout"),
            layers.Dense(1, name="out"),
        ]
    )
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32")).astype("float32")


class Interrupt(katman.callbacks.Callback):
    """Raises at a given (epoch, batch)."""

    def __init__(self, epoch: int, batch: int) -> None:
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise RuntimeError("interrupted")


def fit(model, callbacks, epochs=3):
    x, y = data()
    return model.fit(x, y, batch_size=8, epochs=epochs, callbacks=callbacks, verbose=0)


def test_an_interrupted_fit_keeps_the_backup_and_the_next_fit_resumes_exactly(tmp_path):
    reference = make_model()
    fit(reference, [])

    backup_dir = tmp_path / "backup"
    model = make_model()
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(model, [katman.callbacks.BackupAndRestore(backup_dir, save_freq=2), Interrupt(1, 2)])
    # 5 batches per epoch, backups after global batches 2, 4, 6, 8: the last is (1, 3).
    state = backup_state(backup_dir / BACKUP)
    assert (state["epoch"], state["step"]) == (1, 3)

    resumed = make_model()  # a fresh process would build it the same way
    history = fit(resumed, [katman.callbacks.BackupAndRestore(backup_dir, save_freq=2)])
    assert history.epoch == [1, 2]
    assert not backup_dir.exists()
    for got, want in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        assert np.array_equal(got, want)


class Indexable:
    """Batches by index, as Keras's PyDataset serves them."""

    def __init__(self) -> None:
        self.x, self.y = data()

    def __len__(self) -> int:
        return 5

    def __getitem__(self, index: int) -> tuple:
        return self.x[index * 8 : (index + 1) * 8], self.y[index * 8 : (index + 1) * 8]


class Reiterable:
    """A dataset iterated afresh each epoch (as a DataLoader or a tf.data.Dataset)."""

    def __init__(self) -> None:
        self.batches = Indexable()

    def __len__(self) -> int:
        return 5

    def __iter__(self):
        return (self.batches[i] for i in range(5))


@pytest.mark.parametrize("dataset", [Indexable, Reiterable])
def test_a_fit_on_a_dataset_resumes_exactly(tmp_path, dataset):
    def fit_on(model, callbacks):
        return model.fit(dataset(), epochs=3, callbacks=callbacks, verbose=0)

    reference = make_model()
    fit_on(reference, [])
    model = make_model()
    with pytest.raises(RuntimeError, match="interrupted"):
        fit_on(model, [katman.callbacks.BackupAndRestore(tmp_path, save_freq=3), Interrupt(1, 2)])
    resumed = make_model()
    history = fit_on(resumed, [katman.callbacks.BackupAndRestore(tmp_path, save_freq=3)])
    assert history.epoch == [1, 2]  # from (epoch 1, step 1): the backup after 6 batches
    for got, want in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        assert np.array_equal(got, want)


def test_backup_records_where_training_stands(tmp_path):
    model = make_model()
    backups = []

    class Spy(katman.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            state = backup_state(tmp_path / BACKUP)
            if state is not None and state not in backups:
                backups.append(state)

    fit(model, [katman.callbacks.BackupAndRestore(tmp_path, save_freq=3), Spy()], epochs=2)
    # 5 batches per epoch; backups after global batches 3, 6, 9: (0, 3), (1, 1), (1, 4).
    assert [(b["epoch"], b["step"]) for b in backups] == [(0, 3), (1, 1), (1, 4)]
    assert len({b["shuffle_seed"] for b in backups}) == 1


def test_epoch_backups_and_delete_checkpoint_false(tmp_path):
    model = make_model()
    callback = katman.callbacks.BackupAndRestore(tmp_path / "b", delete_checkpoint=False)
    history = fit(model, [callback], epochs=2)
    assert history.epoch == [0, 1]
    assert backup_state(tmp_path / "b" / BACKUP)["epoch"] == 2
    assert backup_state(tmp_path / "b" / BACKUP)["step"] == 0
    # A later fit restores the trained state and runs only the new epochs, as in Keras.
    weights = model.get_weights()
    restored = []
    spy = katman.callbacks.LambdaCallback(
        on_train_begin=lambda logs=None: restored.extend(fresh.get_weights())
    )
    fresh = make_model(seed=99)
    history = fit(fresh, [callback, spy], epochs=3)
    assert history.epoch == [2]
    for got, want in zip(restored, weights, strict=True):
        assert np.array_equal(got, want)
    assert backup_state(tmp_path / "b" / BACKUP)["epoch"] == 3


def test_delete_checkpoint_removes_the_backup_and_a_later_run_starts_fresh(tmp_path):
    backup_dir = tmp_path / "backup"
    callback = katman.callbacks.BackupAndRestore(backup_dir, save_freq=1)
    history = fit(make_model(), [callback], epochs=2)
    assert history.epoch == [0, 1]
    assert not backup_dir.exists()
    history = fit(make_model(), [callback], epochs=2)
    assert history.epoch == [0, 1]  # nothing to restore: a fresh start
    assert not backup_dir.exists()


def test_delete_checkpoint_leaves_other_files_in_the_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / ".notes.txt.abcd1234.tmp").write_text("also mine")
    # What a process killed while writing its backup leaves behind: removed.
    (tmp_path / f".{BACKUP}.k1lled_0.tmp").write_bytes(b"PK partial")
    fit(make_model(), [katman.callbacks.BackupAndRestore(tmp_path)], epochs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".notes.txt.abcd1234.tmp", "notes.txt"]


def interrupted_backup(backup_dir: Path, **options) -> None:
    with pytest.raises(RuntimeError, match="interrupted"):
        fit(
            make_model(),
            [
                katman.callbacks.BackupAndRestore(backup_dir, save_freq=2, **options),
                Interrupt(1, 3),
            ],
        )


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"not a zip at all",
        lambda data: data[: len(data) // 2],
        lambda data: data[:200] + bytes([data[200] ^ 0xFF]) + data[201:],
        lambda data: b"",
    ],
    ids=["garbage", "truncated", "flipped-byte", "empty"],
)
def test_a_damaged_backup_raises_model_file_error_naming_it(tmp_path, damage):
    backup_dir = tmp_path / "backup"
    interrupted_backup(backup_dir)
    path = backup_dir / BACKUP
    path.write_bytes(damage(path.read_bytes()))
    model = make_model()
    with pytest.raises(ModelFileError, match=BACKUP):
        fit(model, [katman.callbacks.BackupAndRestore(backup_dir, save_freq=2)])
    assert path.exists()  # the damaged backup is left for the user to inspect


def test_a_backup_of_another_model_raises_model_file_error(tmp_path):
    interrupted_backup(tmp_path)
    katman.utils.set_random_seed(1)
    other = katman.Sequential(
        [layers.Input((4,)), layers.Dense(3, name="hidden"), layers.Dense(1, name="out")]
    )
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(ModelFileError, match="does not match"):
        fit(other, [katman.callbacks.BackupAndRestore(tmp_path)])


def test_double_checkpoint_keeps_the_previous_backup_and_falls_back_to_it(tmp_path):
    backup_dir = tmp_path / "backup"
    interrupted_backup(backup_dir, double_checkpoint=True)
    latest, previous = backup_dir / BACKUP, backup_dir / katman.callbacks.BackupAndRestore.PREVIOUS
    assert backup_state(previous)["step"] < backup_state(latest)["step"]
    kept = backup_state(previous)
    latest.write_bytes(b"damaged")
    restored = []
    spy = katman.callbacks.LambdaCallback(
        on_train_begin=lambda logs=None: restored.append(dict(model._training_state))
    )
    model = make_model()
    callback = katman.callbacks.BackupAndRestore(backup_dir, save_freq=2, double_checkpoint=True)
    with pytest.warns(UserWarning, match="previous backup"):
        history = fit(model, [callback, spy])
    assert restored == [kept]
    assert history.epoch == [kept["epoch"], 2]
    assert not backup_dir.exists()
    interrupted_backup(backup_dir, double_checkpoint=True)
    latest.write_bytes(b"damaged")
    # Without double_checkpoint the damaged latest backup is an error.
    with pytest.raises(ModelFileError):
        fit(make_model(), [katman.callbacks.BackupAndRestore(backup_dir)])


def test_arguments_are_checked_and_config_round_trips(tmp_path):
    with pytest.raises(ValueError, match="backup_dir"):
        katman.callbacks.BackupAndRestore("")
    for bad in (0, -3, 1.5, "batch", True):
        with pytest.raises(ValueError, match="save_freq"):
            katman.callbacks.BackupAndRestore(tmp_path, save_freq=bad)
    callback = katman.callbacks.BackupAndRestore(tmp_path, save_freq=7, double_checkpoint=True)
    config = callback.get_config()
    assert json.loads(json.dumps(config)) == config
    assert katman.callbacks.BackupAndRestore(**config).get_config() == config
    rebuilt = katman.callbacks.deserialize(katman.callbacks.serialize(callback))
    assert isinstance(rebuilt, katman.callbacks.BackupAndRestore)
    assert rebuilt.get_config() == config
