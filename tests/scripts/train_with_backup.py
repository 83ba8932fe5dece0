"""A small, seeded training run with BackupAndRestore, for tests that kill it and restart it.

    python train_with_backup.py WORKDIR [--epochs 3] [--save-freq 5|epoch] [--delay 0.0]

Trains a small MLP with Dropout and Adam on fixed data (shuffled each epoch), backing up to
WORKDIR/backup. At the end it writes WORKDIR/final.npz (the model's weights ``w<i>`` and the
optimizer's variables ``o<i>``) and WORKDIR/history.json (the epochs this process trained
and their logs). ``--delay`` sleeps after each batch, so a test can kill the process in the
middle of an epoch; it changes nothing in the numbers.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import katman
from katman import layers

SAMPLES, FEATURES, BATCH_SIZE = 320, 8, 8


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--save-freq", default="5")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    save_freq = args.save_freq if args.save_freq == "epoch" else int(args.save_freq)

    katman.utils.set_random_seed(1234)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, FEATURES)).astype("float32")
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("int32")

    model = katman.Sequential(
        [
            layers.Input((FEATURES,)),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.25),
            layers.Dense(16, activation="relu"),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=katman.optimizers.Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = [katman.callbacks.BackupAndRestore(args.workdir / "backup", save_freq=save_freq)]
    if args.delay:
        callbacks.append(
            katman.callbacks.LambdaCallback(
                on_train_batch_end=lambda batch, logs: time.sleep(args.delay)
            )
        )
    history = model.fit(
        x,
        y,
        batch_size=BATCH_SIZE,
        epochs=args.epochs,
        shuffle=True,
        validation_split=0.125,
        callbacks=callbacks,
        verbose=0,
    )
    arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    for i, variable in enumerate(model.optimizer.variables):
        arrays[f"o{i}"] = katman.ops.convert_to_numpy(variable.value)
    np.savez(args.workdir / "final.npz", **arrays)
    (args.workdir / "history.json").write_text(
        json.dumps({"epoch": history.epoch, "history": history.history})
    )
    print("done", flush=True)


if __name__ == "__main__":
    main()
