"""What a katman layer is on torch: a ``torch.nn.Module`` whose variables are parameters."""

from __future__ import annotations

import re
from typing import Any

import torch


class TorchLayer(torch.nn.Module):
    """The torch side of ``katman.layers.Layer``.

    A katman model is an ordinary module: ``model.parameters()`` yields its variables (as the
    very ``torch.nn.Parameter`` objects katman trains), ``model.to(...)``, ``state_dict()``
    and torch optimizers work, and calling the module runs the layer.
    """

    def _backend_init(self) -> None:
        torch.nn.Module.__init__(self)
        # Variables live here, keyed by name, so torch sees them without clashing with the
        # attributes (``self.kernel``) that hold the katman.Variable.
        self.torch_params = torch.nn.ParameterDict()

    def _track_native_variable(self, variable: Any) -> None:
        key = _free_key(re.sub(r"\W", "_", variable.name), self.torch_params)
        self.torch_params[key] = variable.handle

    def _track_native_layer(self, layer: Any, name: str) -> None:
        if all(module is not layer for module in self._modules.values()):
            self._modules[_free_key(re.sub(r"\W", "_", name), self._modules)] = layer

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self(*args, **kwargs)


def _free_key(key: str, taken: Any) -> str:
    candidate, index = key, 1
    while candidate in taken:
        candidate, index = f"{key}_{index}", index + 1
    return candidate
