"""Functional forms of the layers, activations and losses, as
``torch.nn.functional``."""

from gradlab.nn.functional.activation import (
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    log_softmax,
    prelu,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    swish,
    tanh,
)
from gradlab.nn.functional.attention import scaled_dot_product_attention
from gradlab.nn.functional.conv import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    linear,
    max_pool1d,
    max_pool2d,
)
from gradlab.nn.functional.conv_transpose import conv_transpose1d, conv_transpose2d
from gradlab.nn.functional.distance import cosine_similarity
from gradlab.nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
    smooth_l1_loss,
)
from gradlab.nn.functional.norm import (
    batch_norm,
    dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    embedding,
    gaussian_noise,
    layer_norm,
    stochastic_depth,
)
from gradlab.nn.functional.upsample import interpolate, upsample
from gradlab.ops import one_hot, pad

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "conv2d", "cosine_similarity",
    "cross_entropy", "dropout", "dropout1d", "dropout2d", "dropout3d", "elu", "embedding", "gaussian_noise",
    "gelu", "hardtanh", "huber_loss",
    "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "max_pool1d", "max_pool2d",
    "mse_loss", "multi_margin_loss", "nll_loss", "one_hot", "pad", "prelu", "relu", "relu6", "selu",
    "sigmoid", "silu", "smooth_l1_loss", "softmax", "softplus", "stochastic_depth", "swish", "tanh",
    # issue 18
    "conv_transpose1d", "conv_transpose2d", "interpolate", "scaled_dot_product_attention", "upsample",
]
