"""gradlab.onnx.export on whole models: custom forwards built from Tensor ops,
the `gradlab train` models, `gradlab export`, and the errors."""

import io

import numpy as np
import onnx
import pytest
from test_onnx_layers import TOL, check, run_onnx

import gradlab
from gradlab import nn
from gradlab.onnx import UnsupportedOperatorError
from gradlab.train import recipe


class Residual(nn.Module):
    """Tensor ops between layers: add, mul, view with the batch size, permute,
    slicing and indexing, cat, matmul, reductions, softmax, pow, clamp."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 6)
        self.scale = nn.Parameter(gradlab.tensor([0.5, 2.0, 1.0, -1.0]))

    def forward(self, x):
        y = self.conv(x) + gradlab.cat([x, x], dim=1)
        y = y * self.scale.reshape(1, 4, 1, 1)
        y = y.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        h = self.fc(y)
        a = gradlab.cat([h[:, :3], h[:, 3:].exp().clamp(max=5.0)], dim=1)
        attn = gradlab.softmax(a.unsqueeze(2) @ a.unsqueeze(1), dim=-1)
        z = (attn @ a.unsqueeze(2)).squeeze(2)
        centered = z - z.sum(dim=1, keepdim=True) / 6.0
        return centered + z.amax(dim=1, keepdim=True) ** 2 + a[:, -1:].sqrt().abs()


def test_custom_forward_of_tensor_ops(tmp_path):
    gradlab.manual_seed(0)
    check(Residual(), gradlab.randn(2, 2, 4, 4), tmp_path=tmp_path)


class Sequence(nn.Module):
    """An embedding, a GRU over it and the last step's output, batch first."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 6)
        self.gru = nn.GRU(6, 8, batch_first=True, num_layers=2)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 3)

    def forward(self, tokens):
        out, _ = self.gru(self.embed(tokens))
        return self.head(self.norm(out[:, -1]))


def test_sequence_classifier(tmp_path):
    check(Sequence(), gradlab.randint(0, 20, (2, 7)), int_high=20, tmp_path=tmp_path)


@pytest.mark.parametrize(
    "model",
    [
        {"name": "cnn"},
        {"name": "cnn", "channels": [8, 16], "convs_per_block": 2, "batch_norm": False},
        {"name": "mlp", "hidden": [32, 16]},
        {"name": "layers",
         "layers": ["Flatten()", "Linear(64, 32)", "GELU()", "LayerNorm(32)", "Linear(32, 10)"]},
    ],
)
def test_gradlab_train_models(model, tmp_path):
    config = recipe.resolve_config({"model": model})
    gradlab.manual_seed(0)
    net = recipe.build_model(config, (1, 8, 8), 10)
    for m in net.modules():  # running statistics that differ from the initial ones
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.data = gradlab.randn(m.num_features) * 0.1
            m.running_var.data = gradlab.rand(m.num_features) + 0.5
    check(net, gradlab.randn(1, 1, 8, 8), new_batch=7, tmp_path=tmp_path)


def test_export_returns_a_checked_model_with_named_dynamic_axes(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.Softmax(dim=1))
    proto = gradlab.onnx.export(model, gradlab.randn(4, 3), tmp_path / "m.onnx", input_names=["x"],
                                output_names=["p"], dynamic_axes={"x": {0: "batch"}, "p": [0]},
                                opset_version=18)
    assert proto.opset_import[0].version == 18
    loaded = onnx.load(str(tmp_path / "m.onnx"))
    (x,), (p,) = loaded.graph.input, loaded.graph.output
    assert [d.dim_param or d.dim_value for d in x.type.tensor_type.shape.dim] == ["batch", 3]
    assert [d.dim_param or d.dim_value for d in p.type.tensor_type.shape.dim] == ["p_dynamic_axes_1", 2]
    assert sorted(i.name for i in loaded.graph.initializer) != []
    assert model.training  # the mode is restored


class UsesWhere(nn.Module):
    def forward(self, x):
        return gradlab.where(x > 0, x, x * 0.1)  # its mask is data, not a Tensor


class KernelActivations(nn.Module):
    """Activations that run as one kernel node (Pointwise) in a custom forward."""

    def forward(self, x):
        return (nn.functional.leaky_relu(x, 0.2) + nn.functional.gelu(x)
                + nn.functional.gelu(x, approximate="tanh"))


def test_kernel_activations_in_a_custom_forward_export(tmp_path):
    import onnxruntime

    x = gradlab.randn(5, 3)
    gradlab.onnx.export(KernelActivations(), gradlab.randn(2, 3), tmp_path / "m.onnx",
                        input_names=["input"], dynamic_axes={"input": {0: "batch"}})
    (y,) = onnxruntime.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"input": x.numpy()})
    np.testing.assert_allclose(y, KernelActivations()(x).numpy(), rtol=1e-5, atol=1e-6)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = UsesWhere()

    def forward(self, x):
        return self.inner(x)


def test_unsupported_operation_is_named_with_its_module(tmp_path):
    with pytest.raises(UnsupportedOperatorError, match=r"'Where' \(in module 'inner'\)"):
        gradlab.onnx.export(Block(), gradlab.randn(2, 3), tmp_path / "m.onnx")


def test_unsupported_module_settings_are_named(tmp_path):
    with pytest.raises(UnsupportedOperatorError, match="BatchNorm1d with track_running_stats=False"):
        bn = nn.BatchNorm1d(3, track_running_stats=False)
        gradlab.onnx.export(bn, gradlab.randn(2, 3), tmp_path / "m.onnx")
    with pytest.raises(UnsupportedOperatorError, match="output size must divide"):
        gradlab.onnx.export(nn.AdaptiveAvgPool2d(3), gradlab.randn(1, 1, 5, 5), tmp_path / "m.onnx")
    with pytest.raises(UnsupportedOperatorError, match="indexing with"):
        gradlab.onnx.export(_Gather(), gradlab.randn(2, 3), tmp_path / "m.onnx")


class _Gather(nn.Module):
    def forward(self, x):
        return x[:, [0, 2]]


class _Cube(gradlab.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x**3

    @staticmethod
    def backward(ctx, g):
        return g


def test_custom_function_is_refused(tmp_path):
    class M(nn.Module):
        def forward(self, x):
            return _Cube.apply(x)

    with pytest.raises(UnsupportedOperatorError, match="'_Cube'"):
        gradlab.onnx.export(M(), gradlab.randn(2, 3), tmp_path / "m.onnx")


def test_tracing_leaves_the_engine_as_it_was(tmp_path):
    with pytest.raises(UnsupportedOperatorError):
        gradlab.onnx.export(Block(), gradlab.randn(2, 3), tmp_path / "m.onnx")
    x = gradlab.randn(3, requires_grad=True)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    assert "traced" not in gradlab.autograd.node.Op.apply.__func__.__name__


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"opset_version": 12}, ValueError, "opset_version must be an integer >= 14"),
        ({"input_names": ["a", "b"]}, ValueError, "input_names has 2 names for 1 inputs"),
        ({"dynamic_axes": {"nope": [0]}}, ValueError, "'nope', which is neither"),
        ({"dynamic_axes": {"input": [5]}}, ValueError, "axis 5"),
    ],
)
def test_bad_arguments(kwargs, error, match, tmp_path):
    with pytest.raises(error, match=match):
        gradlab.onnx.export(nn.Linear(3, 2), gradlab.randn(2, 3), tmp_path / "m.onnx", **kwargs)


def test_gradlab_export_command(tmp_path):
    from gradlab.cli import main
    from gradlab.train import run

    config = recipe.resolve_config({
        "epochs": 1, "batch_size": 256, "model": {"channels": [4], "hidden": [8]},
        "early_stopping": {"patience": 0}, "regularization": {"ema": 0.9},
    })
    run.train_run(config, run_dir=tmp_path / "run", out=io.StringIO())
    assert main(["export", str(tmp_path / "run"), str(tmp_path / "model.onnx")]) == 0
    data = recipe.load_data(config)
    x = data.x_test[:9].astype(np.float32)
    (got,) = run_onnx(tmp_path / "model.onnx", {"input": x})
    parts = recipe.build(config)
    from gradlab.train.callbacks._weights import load_state
    from gradlab.train.checkpoint import read_checkpoint

    state = read_checkpoint(tmp_path / "run" / "best.ckpt")
    parts.model.load_state_dict(state["model"])
    load_state(parts.model, next(s for s in state["callbacks"] if s["type"] == "EMA")["state"]["shadow"])
    parts.model.eval()
    np.testing.assert_allclose(got, parts.model(gradlab.tensor(x)).detach().numpy(), rtol=TOL, atol=TOL)
    assert main(["export", str(tmp_path / "nothing"), str(tmp_path / "m.onnx")]) == 2
