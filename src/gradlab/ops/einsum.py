"""``einsum``: sums of products of tensors named by index letters.

The primitive ``Einsum`` takes operands whose subscripts have no repeated
letter (a letter repeated in one operand, as in the trace "ii->", is first
turned into a diagonal) and no ellipsis (written out as letters). Its
gradient by one operand is again an einsum: the incoming gradient, with the
output's subscripts, contracted with the other operands into that operand's
subscripts. A letter that only that operand has was summed away in the
forward pass; its gradient is broadcast back along it.
"""

from __future__ import annotations

import string
from typing import Any

from gradlab import backend
from gradlab.autograd.node import Op
from gradlab.ops._util import operands
from gradlab.ops.rearrange import diagonal
from gradlab.tensor import Tensor

_LETTERS = string.ascii_letters


class Einsum(Op):
    def forward(self, *arrays):
        xp = backend.array_module(arrays[0])
        spec = ",".join(self.subs) + "->" + self.out
        return xp.einsum(spec, *arrays, optimize=len(arrays) > 2)

    def backward(self, g):
        grads = []
        for k, t in enumerate(self.inputs):
            if not t._rg:
                grads.append(None)
                continue
            others = [s for i, s in enumerate(self.subs) if i != k]
            seen = set(self.out).union(*others)
            target = "".join(c for c in self.subs[k] if c in seen)
            tensors = [g] + [x for i, x in enumerate(self.inputs) if i != k]
            grad = Einsum.apply(*tensors, subs=[self.out, *others], out=target)
            if target != self.subs[k]:  # letters summed away: broadcast back along them
                kept = [1 if c not in seen else n for c, n in zip(self.subs[k], t.shape)]
                grad = grad.reshape(kept).expand(t.shape)
            grads.append(grad)
        return tuple(grads)


def _parse(equation: str, tensors: list[Tensor]) -> tuple[list[str], str]:
    """Operand and output subscripts with every ellipsis written out."""
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(tensors):
        raise ValueError(f"einsum(): the equation {equation!r} names {len(subs)} operands, "
                         f"but {len(tensors)} were given")
    free = [c for c in _LETTERS if c not in eq]
    ell_dims = 0
    for s, t in zip(subs, tensors):
        if any(c not in _LETTERS for c in s.replace("...", "")):
            raise ValueError(f"einsum(): subscripts must be letters, got {s!r} in {equation!r}")
        named = len(s.replace("...", ""))
        if ("..." in s and named > t.ndim) or ("..." not in s and named != t.ndim):
            raise RuntimeError(f"einsum(): the subscript {s!r} does not fit an operand with "
                               f"{t.ndim} dimensions")
        if "..." in s:
            ell_dims = max(ell_dims, t.ndim - named)
    ell = "".join(free[:ell_dims])
    expanded = []
    for s, t in zip(subs, tensors):
        if "..." in s:
            n = t.ndim - len(s.replace("...", ""))
            s = s.replace("...", ell[ell_dims - n:])
        expanded.append(s)
    if not arrow:
        letters = "".join(expanded)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    for c in out:
        if out.count(c) > 1 or c not in "".join(expanded):
            raise RuntimeError(f"einsum(): output subscript {c!r} appears more than once or "
                               f"in no operand of {equation!r}")
    return expanded, out


def einsum(equation: str, *operands_: Any) -> Tensor:
    """Einstein summation: ``einsum("bij,bjk->bik", a, b)`` is a batched
    matrix product. Letters in the output are kept, the others summed over;
    without "->" the output holds the letters that appear once, in
    alphabetical order. "..." stands for the remaining (broadcast) dimensions.
    Operands may also be given as one list."""
    tensors = list(operands_[0]) if len(operands_) == 1 and isinstance(operands_[0], (list, tuple)) \
        else list(operands_)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError("einsum(): operands must be Tensors")
    subs, out = _parse(equation, tensors)
    # one dtype, as matmul; twice, so that the first operands reach the final one
    for i in range(1, len(tensors)):
        tensors[0], tensors[i] = operands(tensors[0], tensors[i], "einsum")
    for i in range(1, len(tensors)):
        tensors[0], tensors[i] = operands(tensors[0], tensors[i], "einsum")
    sizes: dict[str, int] = {}
    for k, (s, t) in enumerate(zip(subs, tensors)):
        t, s = _distinct_letters(t, s)
        tensors[k], subs[k] = t, s
        for c, n in zip(s, t.shape):
            sizes.setdefault(c, n)
            if sizes[c] == 1 and n != 1:
                sizes[c] = n
    for k, (s, t) in enumerate(zip(subs, tensors)):
        shape = tuple(sizes[c] for c in s)
        if shape != tuple(t.shape):
            for c, n in zip(s, t.shape):
                if n not in (1, sizes[c]):
                    raise RuntimeError(f"einsum(): subscript {c!r} has size {sizes[c]} in one "
                                       f"operand and {n} in another")
            tensors[k] = t.expand(shape)
    return Einsum.apply(*tensors, subs=subs, out=out)


def _distinct_letters(t: Tensor, s: str) -> tuple[Tensor, str]:
    """A letter repeated within one operand takes that operand's diagonal."""
    while True:
        repeated = [c for c in s if s.count(c) > 1]
        if not repeated:
            return t, s
        c = repeated[0]
        i = s.index(c)
        j = s.index(c, i + 1)
        if t.shape[i] != t.shape[j]:
            raise RuntimeError(f"einsum(): subscript {c!r} is repeated for dimensions of sizes "
                               f"{t.shape[i]} and {t.shape[j]}")
        t = diagonal(t, 0, i, j)
        s = s[:i] + s[i + 1:j] + s[j + 1:] + c



