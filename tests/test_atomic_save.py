"""Saving is atomic: a process killed (SIGKILL) at any moment while saving over a model file
leaves that file whole — the previous version or the new one, never a torn mixture.

A save writes ``.<name>.<random>.tmp`` in the target's folder, flushes it to disk and renames
it over the target. A killed save leaves its temporary behind; a later save of the same path
removes the temporaries that are over a minute old and older than the saving process, so a
save still running in another process is never disturbed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import clean_env

import katman

SCRIPT = Path(__file__).parent / "scripts" / "atomic_saver.py"
# How each round picks its moment: as a new temporary file appears ("early": the save has
# just begun), at a random moment of the save ("during": up to 60 ms after its temporary
# appears; a save takes some tens of milliseconds), or at a random time ("random").
ROUNDS = ("early", "during", "random", "during", "early")
DELAYS = {"early": (0.0, 0.001), "during": (0.0, 0.06)}

pytestmark = pytest.mark.slow


def temporaries(folder: Path) -> set[str]:
    return {
        entry.name
        for entry in os.scandir(folder)
        if entry.name.startswith(".model.katman.") and entry.name.endswith(".tmp")
    }


def saved_version(path: Path) -> int:
    """The version the file holds (every weight equals it); a torn file fails to load."""
    weights = katman.models.load_model(path).get_weights()
    values = {float(value) for array in weights for value in np.unique(array)}
    assert len(values) == 1, f"the file mixes versions {sorted(values)}"
    return int(values.pop())


class Saver:
    """The process of one round, saving versions ``first``, ``first + 1``, ..."""

    def __init__(self, target: Path, first: int) -> None:
        self.first = first
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(target), str(first)],
            env=clean_env(KATMAN_BACKEND=katman.config.backend()),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []

    def wait_for_first_save(self) -> None:
        while line := self.process.stdout.readline():
            self.lines.append(line.strip())
            if line.strip() == f"done {self.first}":
                return
        raise AssertionError(f"the saving process stopped:\n{self.process.stderr.read()}")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)
        # What it printed before it died is still in the pipe.
        self.lines += self.process.stdout.read().splitlines()
        self.process.stdout.close()
        self.process.stderr.close()
        assert self.process.returncode == -signal.SIGKILL

    def last(self, word: str) -> int:
        return max(int(line.split()[1]) for line in self.lines if line.startswith(f"{word} "))


def kill_mid_save(saver: Saver, folder: Path, delay: float) -> bool:
    """Kill ``delay`` seconds after a new temporary appears; whether one was seen."""
    known = temporaries(folder)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if temporaries(folder) - known:
            time.sleep(delay)
            saver.kill()
            return True
    saver.kill()
    return False


def test_a_killed_save_leaves_the_previous_or_the_new_file(tmp_path):
    target = tmp_path / "model.katman"
    rng = random.Random(0)
    report = []
    left_behind = 0
    for index, mode in enumerate(ROUNDS):
        before = temporaries(tmp_path)
        if index == len(ROUNDS) - 1:
            # Make the killed saves' temporaries look a few minutes old: the first save of
            # the next process removes them.
            stale = time.time() - 300
            for name in before:
                os.utime(tmp_path / name, (stale, stale))
        saver = Saver(target, first=1000 * (index + 1))
        saver.wait_for_first_save()
        if index == len(ROUNDS) - 1:
            assert not temporaries(tmp_path) & before, "stale temporaries were not removed"
        if mode in DELAYS:
            delay = rng.uniform(*DELAYS[mode])
            assert kill_mid_save(saver, tmp_path, delay), "no save was seen in progress"
        else:
            time.sleep(rng.uniform(0, 0.3))
            saver.kill()

        version = saved_version(target)  # loads: the file is whole
        done, started = saver.last("done"), saver.last("start")
        assert version in (done, started), (version, done, started)
        new = temporaries(tmp_path) - before
        assert len(new) <= 1
        left_behind += len(new)
        which = "the one being saved" if version > done else "the last one done"
        report.append(
            f"round {index} ({mode}): killed after {done - saver.first + 1} saves; the file "
            f"holds version {version}, {which}; {len(new)} temporary left"
        )
    print("\n".join(report))
    # Killed mid-save, a save leaves its temporary behind (the next saves clean it up once
    # it is over a minute old); a save in this process right now keeps the fresh ones.
    assert left_behind >= 1
    leftovers = temporaries(tmp_path)
    katman.models.load_model(target).save(target)
    assert temporaries(tmp_path) == leftovers
    for name in leftovers:
        (tmp_path / name).unlink()


def test_a_save_removes_only_stale_temporaries_of_its_own_path(tmp_path):
    target = tmp_path / "model.katman"
    model = katman.Sequential([katman.Input(shape=(3,)), katman.layers.Dense(2)])
    old = 0  # 1970: older than any process
    entries = {
        ".model.katman.a1b2c3d4.tmp": True,  # left by a killed save: removed
        ".model.katman.e5f6g7h8.tmp": False,  # written just now (another save running)
        ".other.katman.a1b2c3d4.tmp": False,  # another file's
        ".model.katman.a1b2c3d4e5.tmp": False,  # not a name a save makes
        ".model.katman.link0000.tmp": False,  # a link, not a file
        ".model.katman.folder00.tmp": False,  # a folder
    }
    for name in entries:
        path = tmp_path / name
        if "link" in name:
            path.symlink_to(tmp_path / "elsewhere")
            os.utime(path, (old, old), follow_symlinks=False)
        elif "folder" in name:
            path.mkdir()
            os.utime(path, (old, old))
        else:
            path.write_bytes(b"partial")
            if "e5f6g7h8" not in name:
                os.utime(path, (old, old))
    model.save(target)
    for name, removed in entries.items():
        assert os.path.lexists(tmp_path / name) != removed, name
    model.save_weights(tmp_path / "model.weights.safetensors")  # the same for weights files
    stale = tmp_path / ".model.weights.safetensors.zz99yy88.tmp"
    stale.write_bytes(b"partial")
    os.utime(stale, (old, old))
    model.save_weights(tmp_path / "model.weights.safetensors")
    assert not stale.exists()
