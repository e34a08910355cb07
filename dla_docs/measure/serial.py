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
import itertools
import math
import types
import typing
from collections.abc import Callable, Iterable
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


class _Bad(Exception):
    """A value that is not what its field declares; ``steps`` is its place below the record
    (filled in on the way out, so that a valid record formats no path at all)."""

    def __init__(self, expected: str, value: Any = None, message: str | None = None) -> None:
        self.steps: list[str] = []
        self.message = message if message is not None else f"expected {expected}, got {type(value).__name__}"

    def at(self, step: str) -> _Bad:
        self.steps.append(step)
        return self

    def error(self, where: str) -> RecordError:
        return RecordError(f"{where}{''.join(reversed(self.steps))}: {self.message}")


Converter = Callable[[Any], Any]  # checks and converts one value, or raises _Bad


def _check(kind: type, name: str) -> Converter:
    def convert(value: Any) -> Any:
        if type(value) is not kind:
            raise _Bad(name, value)
        return value
    return convert


def _number(value: Any) -> float:
    if type(value) is float:
        if not math.isfinite(value):
            raise _Bad("a finite number", value)
        return value
    if type(value) is not int:
        raise _Bad("a finite number", value)
    return float(value)


def _none(value: Any) -> None:
    if value is not None:
        raise _Bad("null", value)
    return None


def _any(value: Any) -> Any:
    return value


@functools.cache
def _converter(tp: Any) -> Converter:
    """A function checking and converting data of type ``tp`` (built once per type)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return _any
    if dataclasses.is_dataclass(tp):
        return _record(tp)
    if origin in (Union, types.UnionType):
        options = [_converter(a) for a in args]

        def union(value: Any) -> Any:
            first = None
            for option in options:
                try:
                    return option(value)
                except _Bad as exc:
                    first = first or exc
            raise first
        return union
    if tp is type(None):
        return _none
    if origin is typing.Literal:  # a kind: one of the listed strings
        expected = "one of " + ", ".join(map(repr, args))

        def literal(value: Any) -> Any:
            if value not in args or type(value) is not type(args[0]):
                raise _Bad(expected, value)
            return value
        return literal
    if tp in (bool, int, str):  # exact types: True is not an integer here
        return _check(tp, {bool: "a boolean", int: "an integer", str: "a string"}[tp])
    if tp is float:
        return _number
    if origin in (list, tuple):
        return _sequence(origin, args)
    if origin is dict:
        item = _converter(args[1] if args else Any)

        def mapping(value: Any) -> dict:
            if type(value) is not dict:
                raise _Bad("an object", value)
            out = {}
            for key, v in value.items():
                if type(key) is not str:
                    raise _Bad("a string", key).at(" key")
                try:
                    out[key] = item(v)
                except _Bad as exc:
                    raise exc.at(f".{key}") from None
            return out
        return mapping
    raise TypeError(f"unsupported field type {tp!r}")


def _sequence(origin: type, args: tuple) -> Converter:
    if origin is tuple and args and args[-1] is not Ellipsis:
        fixed = [_converter(a) for a in args]

        def fixed_tuple(value: Any) -> tuple:
            if type(value) is not list:
                raise _Bad("a list", value)
            if len(value) != len(fixed):
                raise _Bad("", message=f"expected {len(fixed)} items, got {len(value)}")
            return tuple(_items(fixed, value))
        return fixed_tuple
    item = _converter(args[0] if args else Any)
    make = tuple if origin is tuple else list

    def sequence(value: Any) -> Any:
        if type(value) is not list:
            raise _Bad("a list", value)
        return make(_items(itertools.repeat(item), value))
    return sequence


def _items(converters: Iterable[Converter], values: list) -> list:
    out = []
    for i, (convert, value) in enumerate(zip(converters, values)):
        try:
            out.append(convert(value))
        except _Bad as exc:
            raise exc.at(f"[{i}]") from None
    return out


@functools.cache
def _fields(cls: type) -> tuple[frozenset[str], tuple[tuple[str, Converter], ...]]:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    return frozenset(names), tuple((n, _converter(hints[n])) for n in names)


def _record(cls: type) -> Converter:
    """The converter of a record type: exactly its fields, each converted (fields looked up
    once, at the first record: a record may refer to its own type)."""

    def record(value: Any) -> Any:
        if type(value) is not dict:
            raise _Bad("an object", value)
        names, converters = _fields(cls)
        if value.keys() != names:
            extra, missing = sorted(set(value) - names), sorted(names - set(value))
            raise _Bad("", message=f"fields differ (unexpected {extra}, missing {missing})")
        fields = {}
        for name, convert in converters:
            try:
                fields[name] = convert(value[name])
            except _Bad as exc:
                raise exc.at(f".{name}") from None
        return cls(**fields)
    return record


def from_data(cls: type, data: Any, path: str = "") -> Any:
    """Rebuild a ``cls`` record from :func:`to_data`'s output, checking every field."""
    try:
        return _converter(cls)(data)
    except _Bad as exc:
        raise exc.error(path or cls.__name__) from None
