"""The rules every deployability fact is judged by (torch-free: the pages and ``verify`` read them).

**Equality.** An output equals the eager model's when ``max |output - eager| / max |eager|``
is at most :data:`TOLERANCE`: the largest absolute difference, relative to the scale of the
eager output (its largest magnitude), on the same seeded input, with the seeded trained-like
weights of :mod:`dla_docs.deploy.weights`. A relative rule because the logits' scale varies
by variant. float32 kernels that sum in another order (ONNX Runtime's, or channels_last's)
differ by about 1e-5 of that scale after 34 layers and 1e-4 after 169; a real defect (a wrong
operator, a dropped layer) differs by far more than 1e-3.
"""

from __future__ import annotations

TOLERANCE = 1e-3
# ``torch.export`` runs non-strict only: torch 2.13's default (``strict=False``) and the mode
# ``torch.onnx.export(dynamo=True)`` captures with first ("strict=False is preferred over
# strict=True because it does not have dynamo issues", torch/onnx/_internal/exporter/
# _capture_strategies.py). Strict mode (TorchDynamo's bytecode analysis, then the same ATen
# tracing; the same IR, serialised the same way) is supported and not deprecated, but it was 40%
# of the command's CPU for a program no step here uses: not run, and the pages say so.
EXPORT_MODES = ("non_strict",)
STRICT_NOT_RUN = ("strict mode (`strict=True`, TorchDynamo's bytecode analysis; same IR) is not run: non-strict "
                  "is torch's default and the mode `torch.onnx.export(dynamo=True)` captures with")
BATCHES = (1, 4)  # ONNX Runtime runs batch 1 and a larger batch through the dynamic batch axis
PACKAGES = ("torch", "onnx", "onnxscript", "onnxruntime")  # the versions the record names
INSTALL = "pip install 'dla-docs[deploy]'  (onnx, onnxscript, onnxruntime)"


def relative_error(max_abs: float, scale: float) -> float:
    """``max_abs`` relative to the output's ``scale`` (0 when both are 0)."""
    if scale == 0.0:
        return 0.0 if max_abs == 0.0 else float("inf")
    return max_abs / scale
