"""Optimization: optimizers with PyTorch's update rules and defaults, exact
Newton-Raphson, learning-rate schedules, and parameter-group helpers.

    opt = gradlab.optim.AdamW(gradlab.optim.param_groups(model, 0.05), lr=1e-3)
    sched = gradlab.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=1000)
"""

from gradlab.optim import lr_scheduler
from gradlab.optim.adadelta import Adadelta
from gradlab.optim.adagrad import Adagrad
from gradlab.optim.adam import Adam
from gradlab.optim.adamw import AdamW
from gradlab.optim.lbfgs import LBFGS
from gradlab.optim.lr_scheduler.scaling import linear_scaling_rule
from gradlab.optim.nadam import NAdam
from gradlab.optim.newton import Newton
from gradlab.optim.optimizer import Optimizer, required
from gradlab.optim.param_groups import param_groups
from gradlab.optim.rmsprop import RMSprop
from gradlab.optim.sgd import SGD

__all__ = [
    "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "NAdam", "Newton", "Optimizer",
    "RMSprop", "linear_scaling_rule", "lr_scheduler", "param_groups", "required",
]
