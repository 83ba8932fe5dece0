"""The benchmark's models and training loop written by hand in PyTorch: ``nn.Module``s,
``torch.optim.Adam``, and the usual loop (``model.train()``, ``zero_grad``, forward, loss,
``backward``, ``step``). Data lives in tensors (channels first for the convnet, converted once);
each epoch slices shuffled batches from them, as ``fit`` does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from benchmarks.workload import BATCH_SIZE, BETA_1, BETA_2, EPSILON, LEARNING_RATE, NUM_CLASSES


def build_model(model: str) -> nn.Module:
    if model == "mlp":
        return nn.Sequential(
            nn.Linear(784, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, NUM_CLASSES),
            nn.Softmax(dim=-1),
        )
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(5 * 5 * 64, NUM_CLASSES),
        nn.Softmax(dim=-1),
    )


def load_weights(net: nn.Module, model: str, weights: list[np.ndarray]) -> None:
    """Copy Keras-layout weights in: Linear kernels transposed, Conv2d kernels as
    ``(out, in, h, w)``, and the last Dense's rows reordered from a channels-last flatten to
    a channels-first one (so the three variants compute the same function)."""
    weights = list(weights)
    if model == "convnet":
        dense = weights[4].reshape(5, 5, 64, NUM_CLASSES).transpose(2, 0, 1, 3)
        weights[4] = dense.reshape(5 * 5 * 64, NUM_CLASSES)
    params = [m for m in net if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        for module, kernel, bias in zip(params, weights[::2], weights[1::2], strict=True):
            layout = (1, 0) if kernel.ndim == 2 else (3, 2, 0, 1)
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(layout))))
            module.bias.copy_(torch.from_numpy(bias))


def cross_entropy(probabilities: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Keras's sparse categorical cross-entropy of probabilities."""
    probabilities = probabilities / probabilities.sum(dim=-1, keepdim=True)
    probabilities = probabilities.clamp(EPSILON, 1.0 - EPSILON)
    return nn.functional.nll_loss(torch.log(probabilities), labels)


def startup() -> None:
    build_model("mlp")
    build_model("convnet")


class Runner:
    def __init__(self, model: str, weights: list[np.ndarray]) -> None:
        self.channels_first = model == "convnet"
        self.net = build_model(model)
        load_weights(self.net, model, weights)
        self.optimizer = torch.optim.Adam(
            self.net.parameters(), lr=LEARNING_RATE, betas=(BETA_1, BETA_2), eps=EPSILON
        )

    def _inputs(self, x: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(x)
        return tensor.permute(0, 3, 1, 2).contiguous() if self.channels_first else tensor

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad()
        loss = cross_entropy(self.net(x), y)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        self.net.eval()
        with torch.no_grad():
            return self.net(self._inputs(x)).numpy()

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, on_epoch_end: Callable) -> float:
        inputs, labels = self._inputs(x), torch.from_numpy(y).long()
        steps = len(inputs) // BATCH_SIZE
        self.net.train()
        mean = 0.0
        for _ in range(epochs):
            order = torch.from_numpy(np.random.permutation(len(inputs)))
            total = torch.zeros(())
            for step in range(steps):
                index = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
                total += self._step(inputs[index], labels[index])
            mean = float(total) / steps
            on_epoch_end()
        return mean

    def train_on_batch(self, x: np.ndarray, y: np.ndarray) -> float:
        self.net.train()
        return float(self._step(self._inputs(x), torch.from_numpy(y).long()))

    def predict(self, x: np.ndarray) -> np.ndarray:
        inputs = self._inputs(x)
        self.net.eval()
        outputs = []
        with torch.no_grad():
            for start in range(0, len(inputs), BATCH_SIZE):
                outputs.append(self.net(inputs[start : start + BATCH_SIZE]).numpy())
        return np.concatenate(outputs)

    def sync(self) -> None:
        """Nothing is queued: torch runs each op as it is called on the CPU."""
