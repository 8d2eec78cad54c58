"""The layers of gradlab.nn, one family per file."""

from gradlab.nn.layers.activation import (
    ELU,
    GELU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    PReLU,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Swish,
    Tanh,
)
from gradlab.nn.layers.attention import MultiheadAttention
from gradlab.nn.layers.conv import Conv1d, Conv2d
from gradlab.nn.layers.conv_transpose import ConvTranspose1d, ConvTranspose2d
from gradlab.nn.layers.dropout import (
    Dropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    GaussianNoise,
    StochasticDepth,
)
from gradlab.nn.layers.embedding import Embedding
from gradlab.nn.layers.linear import Flatten, Linear, Maxout, Unflatten
from gradlab.nn.layers.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
)
from gradlab.nn.layers.norm import BatchNorm1d, BatchNorm2d, LayerNorm
from gradlab.nn.layers.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from gradlab.nn.layers.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from gradlab.nn.layers.sync_batchnorm import SyncBatchNorm
from gradlab.nn.layers.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from gradlab.nn.layers.upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "ELU", "GELU", "GRU", "LSTM", "RNN", "SELU", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d",
    "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d",
    "CrossEntropyLoss", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "Embedding", "Flatten",
    "GRUCell", "GaussianNoise",
    "Hardtanh", "HuberLoss", "L1Loss", "LSTMCell", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax",
    "MSELoss", "MaxPool1d", "MaxPool2d", "Maxout", "MultiMarginLoss", "NLLLoss", "PReLU", "RNNBase",
    "RNNCell", "RNNCellBase", "ReLU", "SiLU", "Sigmoid", "SmoothL1Loss", "Softmax", "Softplus",
    "StochasticDepth", "SyncBatchNorm", "Swish", "Tanh", "Unflatten",
    # issue 18
    "ConvTranspose1d", "ConvTranspose2d", "MultiheadAttention", "Transformer", "TransformerDecoder",
    "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer", "Upsample",
    "UpsamplingBilinear2d", "UpsamplingNearest2d",
]
