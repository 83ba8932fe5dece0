"""The benchmark's models and training loop written by hand in PyTorch: ``nn.Module``s,
``torch.optim.Adam``, and the usual loop (``model.train()``, ``zero_grad``, forward, loss,
``backward``, ``step``). Data lives in tensors on the model's device (the first GPU when torch
sees one; channels first for the convolutional models, converted once); each epoch slices
shuffled batches from them, as ``fit`` does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from benchmarks import workload
from benchmarks.workload import BATCH_SIZE, BETA_1, BETA_2, EPSILON, LEARNING_RATE, NUM_CLASSES

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def conv_bn(cin: int, cout: int, size: int, stride: int) -> nn.Sequential:
    """Conv2d without bias and BatchNorm2d with Keras's momentum and epsilon. A stride-2
    3x3 convolution pads one row and column at the end only, as Keras's ``"same"`` does."""
    pad = nn.ZeroPad2d((0, 1, 0, 1)) if stride == 2 and size == 3 else nn.Identity()
    padding = size // 2 if stride == 1 else 0
    return nn.Sequential(
        pad,
        nn.Conv2d(cin, cout, size, stride=stride, padding=padding, bias=False),
        nn.BatchNorm2d(cout, eps=workload.BN_EPSILON, momentum=1.0 - workload.BN_MOMENTUM),
    )


class Block(nn.Module):
    """ResNet's basic block."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = conv_bn(cin, cout, 3, stride)
        self.conv2 = conv_bn(cout, cout, 3, 1)
        self.proj = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        y = self.conv2(torch.relu(self.conv1(x)))
        return torch.relu(y + shortcut)


def build_resnet(model: str = "resnet") -> nn.Sequential:
    size = workload.RESNET_SIZES[model]
    layers: list[nn.Module] = [conv_bn(3, size.stem, 3, 1), nn.ReLU()]
    channels = size.stem
    for stage, (filters, _) in enumerate(size.stages):
        for block in range(size.blocks):
            layers.append(Block(channels, filters, size.block_stride(stage, block)))
            channels = filters
    layers += [
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, NUM_CLASSES),
        nn.Softmax(dim=-1),
    ]
    return nn.Sequential(*layers)


def build_model(model: str) -> nn.Module:
    if model in workload.RESNETS:
        return build_resnet(model)
    if model in workload.MLPS:
        (inputs, width), _, _ = workload.mlp_shapes(model)
        return nn.Sequential(
            nn.Linear(inputs, width),
            nn.ReLU(),
            nn.Linear(width, width),
            nn.ReLU(),
            nn.Linear(width, NUM_CLASSES),
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
    if model in workload.RESNETS:
        # Modules with weights in build order: each Block's conv1, conv2, then proj, as
        # workload.resnet_layers lists them (conv1, bn1, conv2, bn2, proj, proj_bn).
        order = _resnet_order(net)
        arrays = [arrays for _, arrays in workload.by_layer(model, weights)]
    else:
        order = [m for m in net if isinstance(m, (nn.Linear, nn.Conv2d))]
        arrays = [list(pair) for pair in zip(weights[::2], weights[1::2], strict=True)]
    with torch.no_grad():
        for module, values in zip(order, arrays, strict=True):
            tensors = [torch.from_numpy(np.ascontiguousarray(v)) for v in values]
            if isinstance(module, nn.BatchNorm2d):
                for target, value in zip(
                    (module.weight, module.bias, module.running_mean, module.running_var),
                    tensors,
                    strict=True,
                ):
                    target.copy_(value)
                continue
            layout = (1, 0) if values[0].ndim == 2 else (3, 2, 0, 1)
            module.weight.copy_(tensors[0].permute(layout))
            if len(tensors) > 1:
                module.bias.copy_(tensors[1])


def _resnet_order(net: nn.Module) -> list[nn.Module]:
    """The ResNet's modules with weights in :func:`workload.resnet_layers`'s order."""

    def pair(unit: nn.Sequential) -> list[nn.Module]:
        return [unit[1], unit[2]]  # the convolution and its batch normalization

    order = pair(net[0])
    for module in net:
        if isinstance(module, Block):
            order += pair(module.conv1) + pair(module.conv2)
            if module.proj is not None:
                order += pair(module.proj)
    return [*order, net[-2]]


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
        self.channels_first = model not in workload.MLPS
        self.net = build_model(model)
        load_weights(self.net, model, weights)
        self.net.to(DEVICE)
        self.optimizer = torch.optim.Adam(
            self.net.parameters(), lr=LEARNING_RATE, betas=(BETA_1, BETA_2), eps=EPSILON
        )

    def _inputs(self, x: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(x).to(DEVICE)
        return tensor.permute(0, 3, 1, 2).contiguous() if self.channels_first else tensor

    def _labels(self, y: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(y).long().to(DEVICE)

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad()
        loss = cross_entropy(self.net(x), y)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        self.net.eval()
        with torch.no_grad():
            return self.net(self._inputs(x)).cpu().numpy()

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int, on_epoch_end: Callable) -> float:
        inputs, labels = self._inputs(x), self._labels(y)
        steps = len(inputs) // BATCH_SIZE
        self.net.train()
        mean = 0.0
        for _ in range(epochs):
            order = torch.from_numpy(np.random.permutation(len(inputs))).to(DEVICE)
            total = torch.zeros((), device=DEVICE)
            for step in range(steps):
                index = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
                total += self._step(inputs[index], labels[index])
            mean = float(total) / steps
            on_epoch_end()
        return mean

    def train_on_batch(self, x: np.ndarray, y: np.ndarray) -> float:
        self.net.train()
        return float(self._step(self._inputs(x), self._labels(y)))

    def predict(self, x: np.ndarray) -> np.ndarray:
        inputs = self._inputs(x)
        self.net.eval()
        outputs = []
        with torch.no_grad():
            for start in range(0, len(inputs), BATCH_SIZE):
                outputs.append(self.net(inputs[start : start + BATCH_SIZE]).cpu().numpy())
        return np.concatenate(outputs)

    def sync(self) -> None:
        """Wait for the GPU's queue (on the CPU, torch runs each op as it is called)."""
        if DEVICE.type == "cuda":
            torch.cuda.synchronize()
