"""Every optimizer update by name, as :mod:`gradlab.optim` calls them.

Each ``*_update`` runs its compiled kernel (one fused pass over the
parameter) when the arrays are NumPy float32/float64 and the parameter and
its state are C-contiguous, and the NumPy/CuPy reference of the same math
otherwise; the kernels and references, with the formulas and papers, live in
:mod:`~gradlab.kernels.optim_sgd`, :mod:`~gradlab.kernels.optim_adam` and
:mod:`~gradlab.kernels.optim_adaptive`.
"""

from gradlab.kernels.optim_adam import adam_update, nadam_update
from gradlab.kernels.optim_adaptive import adadelta_update, adagrad_update, rmsprop_update
from gradlab.kernels.optim_sgd import sgd_update

__all__ = ["adadelta_update", "adagrad_update", "adam_update", "nadam_update", "rmsprop_update",
           "sgd_update"]
