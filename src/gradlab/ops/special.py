"""Logarithms to other bases, composed from the natural logarithm:

    log_b(x) = ln(x) / ln(b),    d/dx log_b(x) = 1 / (x ln b).
"""

from __future__ import annotations

import math

from gradlab.ops.elementwise import log
from gradlab.tensor import Tensor


def log10(x: Tensor) -> Tensor:
    """Base-10 logarithm, elementwise (integer tensors give floats)."""
    return log(x) / math.log(10.0)


def log2(x: Tensor) -> Tensor:
    """Base-2 logarithm, elementwise (integer tensors give floats)."""
    return log(x) / math.log(2.0)
