"""gradlab.onnx: export models to ONNX (``pip install 'gradlab[onnx]'``).

    gradlab.onnx.export(model, gradlab.randn(1, 1, 8, 8), "model.onnx",
                        input_names=["input"], output_names=["output"],
                        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})

The graph is traced from one forward pass (see :mod:`gradlab.onnx.export`)
and built with the ``onnx`` package's helpers; the exported file runs in
onnxruntime. ``gradlab export RUN model.onnx`` exports a run folder's model.
"""

from gradlab.onnx.export import export
from gradlab.onnx.graph import UnsupportedOperatorError

__all__ = ["UnsupportedOperatorError", "export"]
