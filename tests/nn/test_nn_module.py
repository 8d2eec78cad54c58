"""The Module system: registration, walks, state dicts, modes, moves, repr."""

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import gradlab
from gradlab import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
        self.head = nn.Linear(2, 3)
        self.register_buffer("scale", gradlab.ones(3))
        self.register_buffer("cache", gradlab.zeros(1), persistent=False)

    def forward(self, x):
        return self.head(self.features(x).mean((2, 3))) * self.scale


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        tnn = torch.nn
        self.features = tnn.Sequential(tnn.Conv2d(1, 2, 3), tnn.BatchNorm2d(2), tnn.ReLU())
        self.head = torch.nn.Linear(2, 3)
        self.register_buffer("scale", torch.ones(3))
        self.register_buffer("cache", torch.zeros(1), persistent=False)

    def forward(self, x):
        return self.head(self.features(x).mean((2, 3))) * self.scale


def test_state_dict_keys_shapes_and_loading_a_torch_model():
    gl, th = Net(), TorchNet()
    assert [(k, tuple(v.shape)) for k, v in gl.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in th.state_dict().items()]
    assert "cache" not in gl.state_dict() and "cache" in dict(gl.named_buffers())
    result = gl.load_state_dict({k: v.numpy() for k, v in th.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).standard_normal((2, 1, 5, 5)).astype(np.float32)
    gl.eval(), th.eval()
    np.testing.assert_allclose(gl(gradlab.tensor(x)).detach().numpy(), th(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert gl.state_dict()["features.1.num_batches_tracked"].dtype == gradlab.int64


def test_load_state_dict_strict_and_non_strict():
    m = nn.Linear(2, 3)
    state = {"weight": np.ones((3, 2)), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError, match='(?s)Missing key.*"bias".*Unexpected key.*"extra"'):
        m.load_state_dict(state)
    result = m.load_state_dict(state, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones((3, 2)))
    assert m.weight.dtype == gradlab.float32


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    m = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(RuntimeError, match=r"0\.weight.*\(3, 4\).*\(3, 2\)"):
        m.load_state_dict({"0.weight": np.zeros((3, 4)), "0.bias": np.zeros(3)})


def test_shared_parameters_listed_once():
    a = nn.Linear(3, 3)
    m = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(m.parameters())) == 2
    emb, out = nn.Embedding(5, 3), nn.Linear(3, 5, bias=False)
    out.weight = emb.weight  # weight tying
    tied = nn.ModuleDict({"emb": emb, "out": out})
    assert [n for n, _ in tied.named_parameters()] == ["emb.weight"]
    assert list(tied.state_dict()) == ["emb.weight", "out.weight"]  # as in PyTorch
    assert len(list(m.modules())) == 3


def test_registration_and_attribute_rules():
    m = nn.Module()
    m.w = nn.Parameter(gradlab.zeros(2))
    m.sub = nn.Linear(1, 1)
    m.plain = gradlab.zeros(1)  # a plain tensor is an attribute, not a buffer
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    assert list(m.state_dict()) == ["w", "sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = gradlab.zeros(2)
    m.w = None
    assert [n for n, _ in m.named_parameters()] == ["sub.weight", "sub.bias"]
    del m.sub
    assert list(m.parameters()) == []
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", gradlab.zeros(1))
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        m.missing
    m.register_buffer("buf", gradlab.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        m.register_parameter("buf", nn.Parameter(gradlab.zeros(1)))
    m.buf = gradlab.ones(1)
    np.testing.assert_array_equal(m.state_dict()["buf"].numpy(), [1.0])


def test_train_eval_apply_zero_grad_requires_grad():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert m.training and m[1].training
    m.eval()
    assert not m.training and not m[1].training
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Dropout", "Sequential"]
    m(gradlab.ones(1, 2)).sum().backward()
    assert m[0].weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert not np.any(m[0].weight.grad.numpy())
    m.zero_grad()
    assert m[0].weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_dtype_keeps_parameter_identity_and_integer_buffers():
    m = nn.BatchNorm1d(3)
    p = m.weight
    m.to(gradlab.float64)
    assert m.weight is p and p.dtype == gradlab.float64 and m.running_mean.dtype == gradlab.float64
    assert m.num_batches_tracked.dtype == gradlab.int64
    m.float()
    assert m.weight.dtype == gradlab.float32
    with pytest.raises(TypeError, match="floating point"):
        m.to(gradlab.int32)


def test_repr_is_readable():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert text == "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)"
    assert repr(nn.Conv2d(1, 2, 3, stride=2)) == "Conv2d(1, 2, kernel_size=(3, 3), stride=(2, 2))"
    assert repr(nn.Parameter(gradlab.zeros(1))).startswith("Parameter containing:")


def test_containers():
    seq = nn.Sequential(OrderedDict([("a", nn.Linear(2, 3)), ("b", nn.ReLU())]))
    assert isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.ReLU) and len(seq[:1]) == 1
    assert list(seq.state_dict()) == ["a.weight", "a.bias"]
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 4 and len(list(layers.parameters())) == 8
    assert list(layers.state_dict())[-1] == "3.bias"
    d = nn.ModuleDict({"x": nn.Linear(1, 1)})
    d["y"] = nn.Tanh()
    assert list(d.keys()) == ["x", "y"] and "y" in d
    with pytest.raises(IndexError):
        seq[5]


def test_forward_hooks():
    m = nn.Linear(2, 2)
    calls = []
    handle = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape))
    pre = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    out = m(gradlab.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(m.bias.detach().numpy(), (3, 2)))
    handle.remove()
    pre.remove()
    m(gradlab.ones(3, 2))
    assert calls == [(3, 2)]


def test_get_submodule_and_parameter():
    m = Net()
    assert isinstance(m.get_submodule("features.0"), nn.Conv2d)
    assert m.get_parameter("head.bias") is m.head.bias
    with pytest.raises(AttributeError, match="nope"):
        m.get_submodule("features.nope")


def test_deepcopy_gives_independent_parameters():
    m = Net()
    clone = copy.deepcopy(m)
    assert isinstance(clone.head.weight, nn.Parameter) and clone.head.weight is not m.head.weight
    with gradlab.no_grad():
        clone.head.weight.fill_(0.0)
    assert np.any(m.head.weight.detach().numpy())
    assert list(clone.state_dict()) == list(m.state_dict())
