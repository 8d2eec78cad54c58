"""gradlab.onnx.export: every exportable layer, run in onnxruntime with another
batch size than the one traced, equals gradlab's eval-mode output (float32)."""

import numpy as np
import onnxruntime as ort
import pytest

import gradlab
from gradlab import nn

TOL = 1e-5


def run_onnx(path, feeds):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def check(model, example, batch_axis=0, new_batch=5, tmp_path=None, int_high=None, names=None):
    """Export with a dynamic batch axis, run on a batch of ``new_batch`` and
    compare every output with gradlab's."""
    shape = list(example.shape)
    shape[batch_axis] = new_batch
    rng = np.random.default_rng(1)
    if int_high is not None:
        x = rng.integers(0, int_high, size=shape).astype(np.int64)
    else:
        x = rng.standard_normal(shape).astype(np.float32)
    model.eval()
    expected = model(gradlab.tensor(x))
    expected = [expected] if isinstance(expected, gradlab.Tensor) else _flat(expected)
    out_names = names or (["output"] if len(expected) == 1 else [f"output_{i}" for i in range(len(expected))])
    path = tmp_path / "model.onnx"
    gradlab.onnx.export(model, example, path, input_names=["input"], output_names=out_names,
                        dynamic_axes={"input": {batch_axis: "batch"}})
    got = run_onnx(path, {"input": x})
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e.detach().numpy(), rtol=TOL, atol=TOL)
    return got


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


def _trained_bn(bn, shape):
    """Batch norm with running statistics that are not the initial ones."""
    bn.train()
    with gradlab.no_grad():
        for _ in range(3):
            bn(gradlab.randn(*shape) * 2.0 + 1.0)
        if bn.weight is not None:
            bn.weight.data = gradlab.rand(bn.num_features) + 0.5
            bn.bias.data = gradlab.randn(bn.num_features)
    return bn


LAYERS = {
    "linear": (lambda: nn.Linear(6, 4), (2, 6)),
    "linear_3d": (lambda: nn.Linear(6, 4), (2, 3, 6)),
    "linear_no_bias": (lambda: nn.Linear(6, 4, bias=False), (2, 6)),
    "conv1d": (lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=1), (2, 3, 9)),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3, padding=1), (2, 3, 6, 6)),
    "conv2d_strided_dilated_groups": (lambda: nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2),
                                      (2, 4, 9, 9)),
    "conv2d_same": (lambda: nn.Conv2d(2, 3, 4, padding="same", bias=False), (2, 2, 7, 7)),
    "conv2d_reflect": (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 6, 6)),
    "maxpool1d": (lambda: nn.MaxPool1d(2), (2, 3, 8)),
    "maxpool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 7)),
    "avgpool1d": (lambda: nn.AvgPool1d(3, stride=2, padding=1), (2, 3, 8)),
    "avgpool2d": (lambda: nn.AvgPool2d(2), (2, 3, 6, 6)),
    "avgpool2d_pad_excluded": (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
                               (2, 3, 7, 7)),
    "adaptive_avgpool2d_global": (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5)),
    "adaptive_avgpool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 4, 6)),
    "adaptive_avgpool1d": (lambda: nn.AdaptiveAvgPool1d(2), (2, 3, 8)),
    "batchnorm1d": (lambda: _trained_bn(nn.BatchNorm1d(5), (8, 5)), (2, 5)),
    "batchnorm1d_3d": (lambda: _trained_bn(nn.BatchNorm1d(5), (8, 5, 4)), (2, 5, 4)),
    "batchnorm2d": (lambda: _trained_bn(nn.BatchNorm2d(3), (8, 3, 4, 4)), (2, 3, 4, 4)),
    "batchnorm2d_no_affine": (lambda: _trained_bn(nn.BatchNorm2d(3, affine=False), (8, 3, 4, 4)),
                              (2, 3, 4, 4)),
    "layernorm": (lambda: nn.LayerNorm(6), (2, 3, 6)),
    "layernorm_2d_shape": (lambda: nn.LayerNorm((3, 6)), (2, 3, 6)),
    "layernorm_no_affine": (lambda: nn.LayerNorm(6, elementwise_affine=False), (2, 6)),
    "dropout": (lambda: nn.Dropout(0.5), (2, 6)),
    "dropout_scale_at_test": (lambda: nn.Dropout(0.25, scale_at_test=True), (2, 6)),
    "dropout2d": (lambda: nn.Dropout2d(0.5), (2, 3, 4, 4)),
    "identity": (lambda: nn.Identity(), (2, 6)),
    "flatten": (lambda: nn.Flatten(), (2, 3, 4, 4)),
    "flatten_middle": (lambda: nn.Flatten(1, 2), (2, 3, 4, 5)),
    "unflatten": (lambda: nn.Unflatten(1, (2, 3)), (2, 6)),
    "relu": (lambda: nn.ReLU(), (2, 6)),
    "sigmoid": (lambda: nn.Sigmoid(), (2, 6)),
    "tanh": (lambda: nn.Tanh(), (2, 6)),
    "leaky_relu": (lambda: nn.LeakyReLU(0.2), (2, 6)),
    "elu": (lambda: nn.ELU(0.7), (2, 6)),
    "selu": (lambda: nn.SELU(), (2, 6)),
    "prelu_shared": (lambda: nn.PReLU(), (2, 3, 4)),
    "prelu_channels": (lambda: nn.PReLU(3, init=0.1), (2, 3, 4, 4)),
    "silu": (lambda: nn.SiLU(), (2, 6)),
    "swish_beta": (lambda: nn.SiLU(beta=1.7), (2, 6)),
    "softplus": (lambda: nn.Softplus(), (2, 6)),
    "softplus_beta_threshold": (lambda: nn.Softplus(beta=2.0, threshold=1.0), (2, 6)),
    "gelu": (lambda: nn.GELU(), (2, 6)),
    "gelu_tanh": (lambda: nn.GELU(approximate="tanh"), (2, 6)),
    "hardtanh": (lambda: nn.Hardtanh(-0.5, 0.7), (2, 6)),
    "softmax": (lambda: nn.Softmax(dim=1), (2, 6)),
    "softmax_last": (lambda: nn.Softmax(dim=-1), (2, 3, 6)),
    "log_softmax": (lambda: nn.LogSoftmax(dim=1), (2, 6)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer(name, tmp_path):
    make, shape = LAYERS[name]
    gradlab.manual_seed(0)
    check(make(), gradlab.randn(*shape), tmp_path=tmp_path)


def test_embedding(tmp_path):
    model = nn.Embedding(11, 4, padding_idx=0)
    check(model, gradlab.randint(0, 11, (2, 7)), int_high=11, tmp_path=tmp_path)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True, "num_layers": 2}, {"bias": False}],
)
def test_recurrent(cls, kwargs, tmp_path):
    model = cls(3, 5, **kwargs)
    batch_axis = 0 if kwargs.get("batch_first") else 1
    example = gradlab.randn(2, 4, 3) if batch_axis == 0 else gradlab.randn(4, 2, 3)
    outputs = check(model, example, batch_axis=batch_axis, tmp_path=tmp_path)
    assert len(outputs) == (3 if cls is nn.LSTM else 2)


class _Recurrent(nn.Module):
    """A recurrent layer with its initial state(s) as separate inputs."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x, *states):
        return self.layer(x, states if len(states) == 2 else states[0])


@pytest.mark.parametrize(
    ("layer", "n_states"),
    [(lambda: nn.LSTM(3, 5, num_layers=2), 2), (lambda: nn.GRU(3, 5, bidirectional=True), 1),
     (lambda: nn.RNN(3, 5, num_layers=2, nonlinearity="relu"), 1)],
)
def test_recurrent_with_given_states(layer, n_states, tmp_path):
    model = _Recurrent(layer())
    directions = 2 if model.layer.bidirectional else 1
    x = gradlab.randn(4, 2, 3)
    states = [gradlab.randn(model.layer.num_layers * directions, 2, 5) for _ in range(n_states)]
    names = ["x"] + [f"s{i}" for i in range(n_states)]
    path = tmp_path / "recurrent.onnx"
    gradlab.onnx.export(model, (x, *states), path, input_names=names)
    got = run_onnx(path, {n: t.numpy() for n, t in zip(names, (x, *states))})
    expected = _flat(model(x, *states))
    assert len(got) == len(expected) == 1 + n_states
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e.detach().numpy(), rtol=TOL, atol=TOL)
