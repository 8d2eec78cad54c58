"""The converters of ConvTranspose1d/2d and MultiheadAttention, layers being
written on another branch, checked against PyTorch's semantics.

Until those layers are merged, each test builds a stand-in: a gradlab module
with the layer's class name, module path, attributes and PyTorch's parameter
names and layouts, whose forward is PyTorch's own layer. The exported graph,
run in onnxruntime, must equal PyTorch's output.
"""

import numpy as np
import onnxruntime as ort
import pytest
import torch

import gradlab
from gradlab import nn
from gradlab.onnx import UnsupportedOperatorError

TOL = 1e-5


def _to_torch(x):
    return torch.from_numpy(np.array(x.numpy())) if isinstance(x, gradlab.Tensor) else x


def _to_gradlab(y):
    if isinstance(y, torch.Tensor):
        return gradlab.tensor(y.detach().numpy())
    if isinstance(y, tuple):
        return tuple(_to_gradlab(v) for v in y)
    return y


def stand_in(name, layer, attributes):
    """A gradlab.nn-looking ``name`` module with ``layer``'s parameters (PyTorch's
    names) and attributes, computing with ``layer``."""

    def __init__(self):
        nn.Module.__init__(self)
        for key, value in attributes.items():
            setattr(self, key, value)
        for pname, p in layer.named_parameters():
            owner = self
            *path, leaf = pname.split(".")
            for part in path:
                if part not in owner._modules:
                    setattr(owner, part, nn.Module())
                owner = getattr(owner, part)
            setattr(owner, leaf, nn.Parameter(gradlab.tensor(p.detach().numpy())))
        for missing in ("bias", "in_proj_weight", "in_proj_bias"):
            if missing in attributes.get("_none", ()):
                self.register_parameter(missing, None)

    def forward(self, *args, **kwargs):
        with torch.no_grad():
            return _to_gradlab(layer(*[_to_torch(a) for a in args],
                                     **{k: _to_torch(v) for k, v in kwargs.items()}))

    cls = type(name, (nn.Module,), {"__init__": __init__, "forward": forward,
                                     "__module__": "gradlab.nn.layers.parallel"})
    return cls()


def _conv_transpose(layer):
    attributes = {k: getattr(layer, k) for k in ("kernel_size", "stride", "padding", "output_padding",
                                                  "dilation", "groups", "padding_mode")}
    if layer.bias is None:
        attributes["_none"] = ("bias",)
    return stand_in(type(layer).__name__, layer, attributes)


def run(path, feeds):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (lambda: torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), (2, 4, 5, 5)),
        (lambda: torch.nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), groups=2, dilation=2, bias=False),
         (2, 4, 5, 6)),
        (lambda: torch.nn.ConvTranspose1d(3, 2, 4, stride=3, padding=2), (2, 3, 7)),
    ],
)
def test_conv_transpose(layer, shape, tmp_path):
    torch.manual_seed(0)
    reference = layer().eval()
    model = _conv_transpose(reference)
    gradlab.onnx.export(model, gradlab.randn(*shape), tmp_path / "m.onnx",
                        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    x = np.random.default_rng(0).standard_normal((5, *shape[1:])).astype(np.float32)
    (got,) = run(tmp_path / "m.onnx", {"input": x})
    np.testing.assert_allclose(got, reference(torch.from_numpy(x)).detach().numpy(), rtol=TOL, atol=TOL)


def test_conv_transpose_output_size_is_read_off_the_output(tmp_path):
    reference = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1).eval()

    class Up(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = _conv_transpose(reference)

        def forward(self, x):
            return self.up(x, output_size=[10, 10])  # output_padding 1, chosen by output_size

    gradlab.onnx.export(Up(), gradlab.randn(1, 2, 5, 5), tmp_path / "m.onnx")
    x = np.random.default_rng(1).standard_normal((1, 2, 5, 5)).astype(np.float32)
    (got,) = run(tmp_path / "m.onnx", {"input": x})
    assert got.shape == (1, 3, 10, 10)
    np.testing.assert_allclose(got, reference(torch.from_numpy(x), output_size=[10, 10]).detach().numpy(),
                               rtol=TOL, atol=TOL)


def _attention(**kwargs):
    torch.manual_seed(0)
    layer = torch.nn.MultiheadAttention(8, 2, **kwargs).eval()
    with torch.no_grad():
        if layer.in_proj_bias is not None:
            layer.in_proj_bias.normal_()
    attributes = {"embed_dim": 8, "num_heads": 2, "batch_first": layer.batch_first, "bias_k": None,
                  "add_zero_attn": False, "_none": (),
                  "out_proj": nn.Linear(8, 8, bias=layer.out_proj.bias is not None)}
    if layer.in_proj_weight is None:
        attributes["_none"] += ("in_proj_weight",)
    if layer.in_proj_bias is None:
        attributes["_none"] += ("in_proj_bias",)
    return layer, stand_in("MultiheadAttention", layer, attributes)


class SelfAttention(nn.Module):
    def __init__(self, attention, **call):
        super().__init__()
        self.attention, self.call = attention, call

    def forward(self, x):
        return self.attention(x, x, x, **self.call)


@pytest.mark.parametrize(
    ("kwargs", "call"),
    [
        ({}, {}),
        ({"batch_first": True}, {}),
        ({"bias": False}, {"need_weights": False}),
        ({"batch_first": True}, {"average_attn_weights": False}),
    ],
)
def test_self_attention(kwargs, call, tmp_path):
    reference, layer = _attention(**kwargs)
    batch_axis = 0 if kwargs.get("batch_first") else 1
    shape = [5, 5, 8]
    shape[batch_axis] = 2
    gradlab.onnx.export(SelfAttention(layer, **call), gradlab.randn(*shape), tmp_path / "m.onnx",
                        dynamic_axes={"input": {batch_axis: "batch"}})
    shape[batch_axis] = 3
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    got = run(tmp_path / "m.onnx", {"input": x})
    t = torch.from_numpy(x)
    out, weights = reference(t, t, t, **call)
    assert len(got) == (1 if weights is None else 2)
    np.testing.assert_allclose(got[0], out.detach().numpy(), rtol=TOL, atol=TOL)
    if weights is not None:
        np.testing.assert_allclose(got[1], weights.detach().numpy(), rtol=TOL, atol=TOL)


def test_cross_attention_with_other_key_sizes(tmp_path):
    torch.manual_seed(0)
    reference = torch.nn.MultiheadAttention(8, 4, kdim=5, vdim=6).eval()
    attributes = {"embed_dim": 8, "num_heads": 4, "batch_first": False, "bias_k": None,
                  "add_zero_attn": False,
                  "_none": ("in_proj_weight",), "out_proj": nn.Linear(8, 8)}
    layer = stand_in("MultiheadAttention", reference, attributes)

    class Cross(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = layer

        def forward(self, q, k, v):
            return self.attention(q, k, v)[0]

    q, k, v = gradlab.randn(4, 2, 8), gradlab.randn(7, 2, 5), gradlab.randn(7, 2, 6)
    gradlab.onnx.export(Cross(), (q, k, v), tmp_path / "m.onnx", input_names=["q", "k", "v"])
    (got,) = run(tmp_path / "m.onnx", {"q": q.numpy(), "k": k.numpy(), "v": v.numpy()})
    expected = reference(*(torch.from_numpy(t.numpy()) for t in (q, k, v)))[0]
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=TOL, atol=TOL)


def test_attention_masks_are_refused(tmp_path):
    _, layer = _attention()
    mask = gradlab.zeros(5, 5)
    with pytest.raises(UnsupportedOperatorError, match="attn_mask"):
        gradlab.onnx.export(SelfAttention(layer, attn_mask=mask), gradlab.randn(5, 2, 8), tmp_path / "m.onnx")


def test_classes_outside_gradlab_nn_are_not_converted_by_name(tmp_path):
    class MultiheadAttention(nn.Module):  # a user's own class of the same name
        def forward(self, x):
            return x * 2.0

    gradlab.onnx.export(MultiheadAttention(), gradlab.randn(2, 3), tmp_path / "m.onnx")
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(run(tmp_path / "m.onnx", {"input": x})[0], 2 * x)
