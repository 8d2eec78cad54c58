"""gradlab.nn: modules, layers, activations, initializers and losses, with
PyTorch's names, arguments, state-dict keys and weight layouts.

Example:
    >>> import gradlab
    >>> from gradlab import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> loss = nn.CrossEntropyLoss()(model(gradlab.randn(5, 4)), gradlab.tensor([0, 1, 2, 0, 1]))
    >>> loss.backward()
    >>> model[0].weight.grad.shape
    (8, 4)
"""

from gradlab.nn import (
           functional,
           init,
           parallel,  # noqa: E402 - DistributedDataParallel wraps a Module
           utils,
)
from gradlab.nn.containers import Identity, ModuleDict, ModuleList, Sequential
from gradlab.nn.layers import *  # noqa: F403 - the layers are the package's public names
from gradlab.nn.layers import __all__ as _layers
from gradlab.nn.module import Module
from gradlab.nn.parameter import Buffer, Parameter

__all__ = ["Buffer", "Identity", "Module", "ModuleDict", "ModuleList", "Parameter", "Sequential",
           "functional", "init", "parallel", "utils", *_layers]
