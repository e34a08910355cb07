"""Records to JSON data and back, with every field's type checked on the way back.

The measurement cache stores :class:`~dla_docs.measure.record.Measurement` and
:class:`~dla_docs.measure.structure.ModelStructure` as JSON. A cache entry is untrusted
input, so :func:`from_data` rebuilds a record only when the data has exactly the record's
fields with exactly the annotated types (``int`` is not ``bool``, a float is not an int,
tuples and lists hold the annotated item type, dict keys are strings); anything else is a
:class:`RecordError`, never a ``TypeError`` deep inside the pages.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from typing import Any, Union


class RecordError(ValueError):
    """Data that is not a valid record; the message names the path to the bad field."""


def _lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def to_data(record: Any) -> Any:
    """A record as JSON-ready data (dataclasses as dicts, tuples as lists)."""
    return _lists(dataclasses.asdict(record))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fail(path: str, expected: str, value: Any) -> RecordError:
    return RecordError(f"{path}: expected {expected}, got {type(value).__name__}")


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return from_data(tp, value, path)
    if origin in (Union, types.UnionType):
        errors = []
        for option in typing.get_args(tp):
            try:
                return _convert(option, value, path)
            except RecordError as exc:
                errors.append(str(exc))
        raise RecordError(errors[0] if errors else f"{path}: no type matches")
    if tp is type(None):
        if value is not None:
            raise _fail(path, "null", value)
        return None
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(path, "a boolean", value)
        return value
    if tp is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(path, "an integer", value)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _fail(path, "a finite number", value)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise _fail(path, "a string", value)
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise _fail(path, "a list", value)
        args = typing.get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise RecordError(f"{path}: expected {len(args)} items, got {len(value)}")
            return tuple(_convert(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        items = [_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(path, "an object", value)
        _, item = typing.get_args(tp) or (str, Any)
        out = {}
        for key, v in value.items():
            if not isinstance(key, str):
                raise _fail(f"{path} key", "a string", key)
            out[key] = _convert(item, v, f"{path}.{key}")
        return out
    raise RecordError(f"{path}: unsupported field type {tp!r}")


def from_data(cls: type, data: Any, path: str = "") -> Any:
    """Rebuild a ``cls`` record from :func:`to_data`'s output, checking every field."""
    where = path or cls.__name__
    if not isinstance(data, dict):
        raise _fail(where, "an object", data)
    fields = {f.name for f in dataclasses.fields(cls)}
    if set(data) != fields:
        extra, missing = sorted(set(data) - fields), sorted(fields - set(data))
        raise RecordError(f"{where}: fields differ (unexpected {extra}, missing {missing})")
    hints = _hints(cls)
    return cls(**{name: _convert(hints[name], data[name], f"{where}.{name}") for name in data})
