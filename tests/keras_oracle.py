"""Keras 3 as the oracle for differential tests: imported with katman's own backend."""

from __future__ import annotations

import os

import katman

os.environ["KERAS_BACKEND"] = katman.config.backend()

import keras

__all__ = ["keras"]
