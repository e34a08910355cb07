"""Records to JSON data and back, with every field's type checked on the way back.

The measurement cache stores :class:`~dla_docs.measure.facts.Measurement` and
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
from collections.abc import Callable
from typing import Any, Union


class RecordError(ValueError):
    """Data that is not a valid record; the message names the path to the bad field."""


@functools.cache
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def to_data(value: Any) -> Any:
    """A record as JSON-ready data (dataclasses as dicts, tuples as lists); unlike
    :func:`dataclasses.asdict` it copies nothing it does not convert."""
    if dataclasses.is_dataclass(value):
        return {name: to_data(getattr(value, name)) for name in _names(type(value))}
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {k: to_data(v) for k, v in value.items()}
    return value


def _fail(path: str, expected: str, value: Any) -> RecordError:
    return RecordError(f"{path}: expected {expected}, got {type(value).__name__}")


Converter = Callable[[Any, str], Any]


def _check(kind: type, name: str) -> Converter:
    def convert(value: Any, path: str) -> Any:
        if type(value) is not kind:
            raise _fail(path, name, value)
        return value
    return convert


def _number(value: Any, path: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _fail(path, "a finite number", value)
    return float(value)


def _none(value: Any, path: str) -> None:
    if value is not None:
        raise _fail(path, "null", value)
    return None


@functools.cache
def _converter(tp: Any) -> Converter:
    """A function checking and converting data of type ``tp`` (built once per type)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return lambda value, path: value
    if dataclasses.is_dataclass(tp):
        return lambda value, path: from_data(tp, value, path)
    if origin in (Union, types.UnionType):
        options = [_converter(a) for a in args]

        def union(value: Any, path: str) -> Any:
            errors = []
            for option in options:
                try:
                    return option(value, path)
                except RecordError as exc:
                    errors.append(str(exc))
            raise RecordError(errors[0])
        return union
    if tp is type(None):
        return _none
    if origin is typing.Literal:  # a kind: one of the listed strings

        def literal(value: Any, path: str) -> Any:
            if value not in args or type(value) is not type(args[0]):
                raise _fail(path, "one of " + ", ".join(map(repr, args)), value)
            return value
        return literal
    if tp in (bool, int, str):  # exact types: True is not an integer here
        return _check(tp, {bool: "a boolean", int: "an integer", str: "a string"}[tp])
    if tp is float:
        return _number
    if origin in (list, tuple):
        if origin is tuple and args and args[-1] is not Ellipsis:
            fixed = [_converter(a) for a in args]

            def fixed_tuple(value: Any, path: str) -> tuple:
                if type(value) is not list:
                    raise _fail(path, "a list", value)
                if len(value) != len(fixed):
                    raise RecordError(f"{path}: expected {len(fixed)} items, got {len(value)}")
                return tuple(c(v, f"{path}[{i}]") for i, (c, v) in enumerate(zip(fixed, value)))
            return fixed_tuple
        item = _converter(args[0] if args else Any)
        make = tuple if origin is tuple else list

        def sequence(value: Any, path: str) -> Any:
            if type(value) is not list:
                raise _fail(path, "a list", value)
            return make(item(v, f"{path}[{i}]") for i, v in enumerate(value))
        return sequence
    if origin is dict:
        item = _converter(args[1] if args else Any)

        def mapping(value: Any, path: str) -> dict:
            if type(value) is not dict:
                raise _fail(path, "an object", value)
            out = {}
            for key, v in value.items():
                if type(key) is not str:
                    raise _fail(f"{path} key", "a string", key)
                out[key] = item(v, f"{path}.{key}")
            return out
        return mapping
    raise TypeError(f"unsupported field type {tp!r}")


@functools.cache
def _fields(cls: type) -> tuple[frozenset[str], tuple[tuple[str, Converter], ...]]:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    return frozenset(names), tuple((n, _converter(hints[n])) for n in names)


def from_data(cls: type, data: Any, path: str = "") -> Any:
    """Rebuild a ``cls`` record from :func:`to_data`'s output, checking every field."""
    where = path or cls.__name__
    if not isinstance(data, dict):
        raise _fail(where, "an object", data)
    names, converters = _fields(cls)
    if data.keys() != names:
        extra, missing = sorted(set(data) - names), sorted(names - set(data))
        raise RecordError(f"{where}: fields differ (unexpected {extra}, missing {missing})")
    return cls(**{name: convert(data[name], f"{where}.{name}") for name, convert in converters})
