"""Limits on rendering a template: time, size, and errors as one line.

A template is a maintainer's file, so it may hold any Jinja: a loop that never ends
(``{% for a in range(99999) %}{% for b in range(99999) %}...``), a string doubled forty
times, a division by zero. Rendering is therefore bounded:

- **time**: at most :func:`time_limit` seconds per template (``DLA_DOCS_TEMPLATE_SECONDS``,
  default :data:`DEFAULT_SECONDS`), measured by a timer that interrupts the render wherever
  it is (the command's main thread; elsewhere only the size limits hold);
- **size**: no string, list or output of a template may exceed :data:`MAX_TEXT` characters
  or items: ``~``, ``+``, ``*`` and ``%`` check their results (``*``, ``**`` and ``%`` before
  building them), string methods refuse widths above it, and the output stops there;
- **errors**: any exception a template raises (``1/0``, ``"a" + 1``, ``truncate(-5)``,
  ``range(1, 2, 0)``, memory exhausted) is one :class:`~dla_docs.errors.InputError` naming
  the template, its line and the limit or the reason, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import jinja2
import jinja2.sandbox
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.filters import FILTERS as DEFAULT_FILTERS

DEFAULT_SECONDS = 10.0
MAX_TEXT = 16 * 1024 * 1024  # characters (or items) of any value or output a template builds


class TemplateLimit(jinja2.sandbox.SecurityError):
    """A template went past a limit of :mod:`dla_docs.render.limits`; the message names the limit."""


def time_limit() -> float:
    text = os.environ.get("DLA_DOCS_TEMPLATE_SECONDS", "").strip()
    try:
        seconds = float(text) if text else DEFAULT_SECONDS
    except ValueError:
        seconds = DEFAULT_SECONDS
    return seconds if seconds > 0 else DEFAULT_SECONDS


def _too_large(size: int, what: str) -> TemplateLimit:
    return TemplateLimit(f"{what} of {size:,} characters or items is past the limit of {MAX_TEXT:,} "
                         "for a template")


def checked_size(value: Any, what: str = "a value") -> Any:
    """``value``, unless it is a string, list or mapping longer than :data:`MAX_TEXT`."""
    if isinstance(value, (str, bytes, list, tuple, dict)) and len(value) > MAX_TEXT:
        raise _too_large(len(value), what)
    return value


class BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator with ``~`` (concatenation) checked for size."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_size(")
        super().visit_Concat(node, frame)
        self.write(", 'a string built with ~')")


#: string methods whose integer arguments say how long the result is
_WIDTH_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs"}


def check_call(obj: Any, args: tuple, kwargs: dict) -> None:
    """Refuse a string method asked for a result wider than :data:`MAX_TEXT`."""
    if getattr(obj, "__name__", "") in _WIDTH_METHODS and isinstance(getattr(obj, "__self__", None), str):
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and value > MAX_TEXT:
                raise _too_large(value, f"a string made by {obj.__name__}()")


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``%`` formatting that asks for a width past :data:`MAX_TEXT` before it is built."""
    if operator == "%" and isinstance(left, str):
        import re

        for width in re.findall(r"%[-+ #0]*(\d+)", left):
            if int(width) > MAX_TEXT:
                raise _too_large(int(width), "a string formatted with %")


class _Expired(BaseException):
    """Raised by the timer inside the render; turned into :class:`TemplateLimit` by :func:`bounded`."""


@contextlib.contextmanager
def _timer(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bounded_render(template: jinja2.Template, context: dict[str, Any]) -> str:
    """``template`` rendered within the limits; :class:`TemplateLimit` past one of them."""
    seconds = time_limit()
    parts: list[str] = []
    size = 0
    try:
        with _timer(seconds):
            for chunk in template.generate(**context):
                size += len(chunk)
                if size > MAX_TEXT:
                    raise _too_large(size, "the rendered page")
                parts.append(chunk)
    except _Expired:
        raise TemplateLimit(f"rendering took longer than the limit of {seconds:g} s "
                            "(DLA_DOCS_TEMPLATE_SECONDS): a loop that does not end?") from None
    except MemoryError:
        parts.clear()
        raise TemplateLimit("rendering ran out of memory: a value grows past what a page needs "
                            f"(the limit is {MAX_TEXT:,} characters)") from None
    return "".join(parts)


def bounded_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """``filters`` each refusing a width past :data:`MAX_TEXT` (``center(10**9)``,
    ``indent(10**9)``) before it builds anything, and a result past it."""
    import functools

    from jinja2.nodes import EvalContext
    from jinja2.runtime import Context

    def bound(name: str, function: Any) -> Any:
        @functools.wraps(function)  # keeps Jinja's pass_context / pass_eval_ctx marks
        def bounded(*args: Any, **kwargs: Any) -> Any:
            given = list(args)
            while given and isinstance(given[0], (Context, EvalContext, jinja2.Environment)):
                given.pop(0)
            for value in (*given[1:], *kwargs.values()):  # the arguments, not the value filtered
                if isinstance(value, int) and not isinstance(value, bool) and value > MAX_TEXT:
                    raise _too_large(value, f"a width given to the {name} filter")
            return checked_size(function(*args, **kwargs), f"the {name} filter's result")
        return bounded

    return {name: bound(name, function) for name, function in filters.items() if name in DEFAULT_FILTERS}
