"""The one adapter to private parts of the ONNX exporter: torch's operator registry, built once,
and the state onnxscript's rewriter keeps after an export, released.

``torch.onnx.export(dynamo=True)`` (torch 2.9 to 2.13 at least) builds its registry of ATen-to-ONNX
translations from onnxscript's torchlib on every call (``ONNXRegistry.from_torchlib``, 1 to 2 s of
CPU, the same result each time). A measuring worker exports one variant after another, so
:func:`registry_built_once` makes that call return the registry this process built first, for the
same opset. Only while the export runs, and only when torch has the expected class and method: on
any other torch the exporter is left as it is (slower, same result).

Safe because the exporter only reads the registry unless a ``custom_translation_table`` is
given, which :mod:`dla_docs.deploy.checks` never gives.

:func:`forget_last_match`: onnxscript 0.7's pattern matchers are module-level objects (one per
rewrite rule) that keep their last match (``_current_node``, ``_graph``, ``_match``) after the
exporter's optimizer has run. That node's graph holds every initializer, and the initializers
hold the exported program's weights, so the last exported model stayed in memory through the
ONNX Runtime phase and into the next variant (dla169: 214 MB of weights and its graph). Found by
walking ``gc.get_referrers`` from a live weight to a module. Resetting that state (the matcher's
own ``_init_match`` sets it up fresh before every match) releases it; on another onnxscript, or
when the class lacks those attributes, nothing is done (same facts, more memory).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_BUILT: dict[object, object] = {}


def _registration():
    try:
        from torch.onnx._internal.exporter import _registration
    except ImportError:
        return None
    cls = getattr(_registration, "ONNXRegistry", None)
    if cls is None or not isinstance(cls.__dict__.get("from_torchlib"), classmethod):
        return None
    return cls


@contextlib.contextmanager
def registry_built_once() -> Iterator[None]:
    cls = _registration()
    if cls is None:
        yield
        return
    original = cls.__dict__["from_torchlib"]
    build = original.__func__

    def from_torchlib(klass, *args, **kwargs):
        key = (klass, args, tuple(sorted(kwargs.items())))
        if key not in _BUILT:
            _BUILT[key] = build(klass, *args, **kwargs)
        return _BUILT[key]

    cls.from_torchlib = classmethod(from_torchlib)
    try:
        yield
    finally:
        cls.from_torchlib = original


_MATCH_STATE = ("_current_node", "_graph", "_tracer")


def _matcher_class():
    try:
        from onnxscript.rewriter import _matcher
    except ImportError:
        return None
    cls = getattr(_matcher, "SimplePatternMatcher", None)
    if cls is None or not callable(getattr(cls, "_init_match", None)):
        return None
    return cls


def forget_last_match() -> int:
    """Drop the last match every onnxscript pattern matcher keeps (see the module doc); the
    number of matchers reset (0 on an onnxscript without them)."""
    cls = _matcher_class()
    if cls is None:
        return 0
    reset = 0
    # type(o), not isinstance: an object's __class__ can warn (torch.distributed.reduce_op does)
    for matcher in (o for o in gc.get_objects() if cls in type(o).__mro__):
        matcher._init_match(0)
        for name in _MATCH_STATE:
            if name in vars(matcher):
                setattr(matcher, name, None)
        reset += 1
    return reset
