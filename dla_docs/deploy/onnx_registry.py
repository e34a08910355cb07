"""The one adapter to a private part of torch's ONNX exporter: its operator registry, built once.

``torch.onnx.export(dynamo=True)`` (torch 2.9 to 2.13 at least) builds its registry of ATen-to-ONNX
translations from onnxscript's torchlib on every call (``ONNXRegistry.from_torchlib``, 1 to 2 s of
CPU, the same result each time). A measuring worker exports one variant after another, so
:func:`registry_built_once` makes that call return the registry this process built first, for the
same opset. Only while the export runs, and only when torch has the expected class and method: on
any other torch the exporter is left as it is (slower, same result).

Safe because the exporter only reads the registry unless a ``custom_translation_table`` is
given, which :mod:`dla_docs.deploy.checks` never gives.
"""

from __future__ import annotations

import contextlib
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
