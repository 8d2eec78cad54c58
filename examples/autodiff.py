"""Autodiff in ten lines: the README's example, checked against the
derivatives worked out by hand."""

import numpy as np

import gradlab

x = gradlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = gradlab.tensor([0.5, -1.0, 2.0], requires_grad=True)
loss = ((x * w).tanh() ** 2).sum()      # any composition of tensor ops
loss.backward()                         # reverse mode: d loss / d every leaf
print(w.grad)                           # 2 tanh(xw) (1 - tanh^2(xw)) x

# gradients of gradients: create_graph records the backward pass itself
(g,) = gradlab.autograd.grad((x ** 3).sum(), x, create_graph=True)
(h,) = gradlab.autograd.grad(g.sum(), x)  # d/dx sum(3x^2) = 6x
print(h)                                  # tensor([ 6., 12., 18.])

# the same numbers by hand
t = np.tanh(x.array * w.array)
assert np.allclose(w.grad.numpy(), 2 * t * (1 - t**2) * x.array, rtol=1e-6)
assert np.allclose(h.numpy(), 6 * x.array)
