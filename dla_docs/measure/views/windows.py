"""The :class:`~dla_docs.measure.geometry.Window` of a module call, from the calls it recorded.

Windows are composed along the dataflow from the module call's first input to its output:
each convolution or pooling adds its kernel window, pointwise functions (elementwise
arithmetic, normalisation, channel bookkeeping) keep the window of their inputs, and where
paths meet their windows are joined (hull). Further inputs (a block's external shortcut, a
root's other inputs) are not followed: the structure's edges carry them. Nothing here knows a
DLA variant; a function it cannot place raises instead of guessing.
"""

from __future__ import annotations

from typing import Any

from dla_docs.measure.geometry import IDENTITY, Window, hull_of, pair
from dla_docs.measure.recording import Call, ModuleCall, Recording

# Elementwise arithmetic, normalisation and channel bookkeeping: the window of their inputs, joined.
POINTWISE = frozenset({"batch_norm", "relu", "relu_", "add", "add_", "mul", "mul_", "cat", "split", "chunk",
                       "flatten", "contiguous", "dropout"})


def _square(value: Any, what: str) -> int:
    """The one value of a square kernel, stride, padding or dilation argument."""
    try:
        side, other = pair(value)
    except (TypeError, ValueError):
        side, other = None, ()
    if side != other or not isinstance(side, int):
        raise ValueError(f"no window for a {what} of {value!r}: not one integer for both sides")
    return side


def _kernel(call: Call, recording: Recording) -> Window | None:
    """The window of one convolution or pooling call; ``None`` for any other function."""
    a = call.arguments
    if call.function not in ("conv2d", "max_pool2d", "avg_pool2d"):
        return None
    if a is None:
        raise ValueError(f"no window for {call.function}: its arguments were not recorded")
    if call.function == "conv2d":
        height, width = a["weight"].shape[2:]
        kernel = _square((height, width), "kernel")
    else:
        kernel = _square(a["kernel_size"], "kernel")
    stride = kernel if call.function != "conv2d" and a["stride"] in (None, []) else _square(a["stride"], "stride")
    return Window.of_kernel(kernel, stride, _square(a["padding"], "padding"),
                            _square(a.get("dilation", 1), "dilation"))


def window(recording: Recording, module_call: ModuleCall) -> Window:
    """The window from the first input of ``module_call`` to its output."""
    windows = {module_call.inputs[0]: IDENTITY}
    for call in recording.calls_in(module_call):
        sources = [windows[t] for t in call.inputs if t in windows]
        if not sources:
            continue
        joined = hull_of(sources)
        kernel = _kernel(call, recording)
        if kernel is not None:
            joined = joined.then(kernel)
        elif call.function not in POINTWISE:
            raise ValueError(f"no window for function {call.function!r} in {module_call.path}")
        for tensor in call.outputs:
            windows[tensor] = joined
    if module_call.outputs[0] not in windows:
        raise ValueError(f"the output of {module_call.path} does not depend on its first input")
    return windows[module_call.outputs[0]]
