"""``katman quickstart``: train a small convnet on the bundled handwritten digits and report
its accuracy on held-out images — the whole Keras workflow on the active backend."""

from __future__ import annotations

import argparse
import time

HELP = "Train a small convnet on the bundled 8x8 digits and print its test accuracy."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    parser.add_argument("--seed", type=int, default=1337, help="random seed (default 1337)")
    parser.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="fit's verbosity: 1 progress bars, 2 a line per epoch, 0 quiet",
    )


def build_model() -> object:
    """The quickstart's convnet for 8x8 grey images and 10 classes."""
    import katman
    from katman import layers

    return katman.Sequential(
        [
            katman.Input(shape=(8, 8, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ],
        name="digits_convnet",
    )


def run(args: argparse.Namespace) -> int:
    import katman
    from katman.datasets import digits

    start = time.perf_counter()
    katman.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = (x_train / 16.0).astype("float32")[..., None]
    x_test = (x_test / 16.0).astype("float32")[..., None]
    print(
        f"katman {katman.__version__} on backend {katman.config.backend()}: "
        f"{len(x_train)} training and {len(x_test)} test images of 8x8 digits"
    )
    model = build_model()
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_split=0.1,
        verbose=args.verbose,
    )
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    elapsed = time.perf_counter() - start
    print(f"test accuracy: {accuracy:.4f} (loss {loss:.4f}) in {elapsed:.1f} s")
    return 0
