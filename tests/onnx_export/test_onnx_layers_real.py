"""The ONNX converters of ConvTranspose1d/2d and MultiheadAttention on the
real gradlab layers (the converters' own tests use stand-ins): the exported
graph, run in onnxruntime, equals the layer's output."""

import numpy as np
import onnxruntime as ort
import pytest

import gradlab
from gradlab import nn

TOL = 1e-5


def _run(path, x):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), (2, 4, 5, 5)),
    (lambda: nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), groups=2, dilation=2, bias=False), (1, 4, 4, 3)),
    (lambda: nn.ConvTranspose1d(3, 2, 4, stride=3, padding=2), (2, 3, 7)),
])
def test_conv_transpose_exports(tmp_path, make, shape):
    layer = make().eval()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    gradlab.onnx.export(layer, gradlab.tensor(x), tmp_path / "m.onnx")
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", x), layer(gradlab.tensor(x)).detach().numpy(),
                               rtol=TOL, atol=TOL)


@pytest.mark.parametrize("batch_first", [False, True])
def test_self_attention_exports(tmp_path, batch_first):
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first).eval()

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = mha

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    model = SelfAttention()
    x = np.random.default_rng(1).standard_normal((3, 5, 8)).astype(np.float32)
    gradlab.onnx.export(model, gradlab.tensor(x), tmp_path / "m.onnx")
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", x), model(gradlab.tensor(x)).detach().numpy(),
                               rtol=TOL, atol=TOL)
