"""The same gradient values in any memory layout give the same update.

Before the fix, a Fortran-ordered gradient of a large parameter went to a
raw-pointer BLAS call as if it were C-ordered: one Adam(lr=1e-3) step on a
(500, 784) parameter moved weights by up to 148 instead of ~1e-3.
"""

import numpy as np
import pytest

import gradlab
from gradlab import optim

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd-momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "sgd-nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "sgd-decay-dampening": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.3,
                                               weight_decay=0.01),
    "sgd-decay-maximize": lambda p: optim.SGD(p, lr=0.1, weight_decay=0.01, maximize=True),
    "adam": lambda p: optim.Adam(p, lr=1e-3),
    "adam-decay": lambda p: optim.Adam(p, lr=1e-3, weight_decay=0.01),
    "adam-amsgrad-max": lambda p: optim.Adam(p, lr=1e-3, amsgrad=True, maximize=True),
    "adamw": lambda p: optim.AdamW(p, lr=1e-3),
    "adamw-amsgrad": lambda p: optim.AdamW(p, lr=1e-3, amsgrad=True),
    "nadam": lambda p: optim.NAdam(p, lr=1e-3),
    "nadam-decoupled": lambda p: optim.NAdam(p, lr=1e-3, weight_decay=0.01,
                                             decoupled_weight_decay=True),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-3),
    "rmsprop-centered-momentum": lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.9, centered=True,
                                                         weight_decay=0.01),
    "rmsprop-nesterov": lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.9, nesterov=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.01, lr_decay=0.01, weight_decay=0.01),
    "adadelta": lambda p: optim.Adadelta(p, lr=1.0, weight_decay=0.01),
    "sgd-momentum-dampening-wd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.2,
                                                     weight_decay=1e-2),
    "adadelta-maximize": lambda p: optim.Adadelta(p, weight_decay=1e-2, maximize=True),
}

# THREADED_MIN (32768 elements in the optimizers' old BLAS path) was the
# size threshold at which a Fortran-ordered gradient was read in the wrong
# order; the kernels have no threshold, and these sizes keep them honest
THRESHOLD = 1 << 15
SHAPES = [(7, 5), (181, 181), (128, THRESHOLD // 128), (500, 784)]


def _layouts(g: np.ndarray) -> dict[str, np.ndarray]:
    wide = np.zeros((g.shape[0], 2 * g.shape[1]), dtype=g.dtype)
    wide[:, ::2] = g
    return {"C": np.ascontiguousarray(g), "F": np.asfortranarray(g),
            "transposed": np.ascontiguousarray(g.T).T, "strided": wide[:, ::2]}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("shape", SHAPES)
def test_update_does_not_depend_on_the_gradient_layout(name, shape):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    results = {}
    for layout, array in _layouts(g).items():
        p = gradlab.nn.Parameter(gradlab.tensor(w0.copy()))
        opt = OPTIMIZERS[name]([p])
        for _ in range(3):  # the first step makes the state, later ones read it
            p.grad = gradlab.Tensor(array)
            opt.step()
        results[layout] = p.detach().numpy().copy()
    for layout, w in results.items():
        np.testing.assert_array_equal(w, results["C"], err_msg=layout)


def test_leaf_gradients_are_c_ordered():
    w = gradlab.randn(6, 4, requires_grad=True)
    x = gradlab.randn(3, 4)
    (x @ w.T).sum().backward()  # the gradient of w.T reaches w transposed
    assert w.grad.array.flags.c_contiguous
    (x @ w.T).sum().backward()  # and accumulates in C order
    assert w.grad.array.flags.c_contiguous


def test_contiguous_returns_a_c_ordered_tensor():
    x = gradlab.randn(3, 4, requires_grad=True)
    t = x.T
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and x.is_contiguous()
    np.testing.assert_array_equal(c.detach().numpy(), t.detach().numpy())
    (c * gradlab.arange(3.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tile(np.arange(3.0)[:, None], (1, 4)))
    assert x.contiguous() is x
