"""Turning values into page text: units, numbers, and escaping of untrusted strings.

Strings from the model-index metadata were written by many hands. On a page they must read
literally: no HTML, no Markdown links or emphasis, no template code. Every value a page
template prints goes through :func:`page_text` unless it is already :class:`Markup`
(trusted HTML this package produced itself, such as a Graphviz SVG).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from markupsafe import Markup

MB = 1_000_000
MIB = 1024 * 1024

# Characters that Markdown (and the pymdownx extensions) would act on, as HTML entities: the
# text then shows exactly these characters and nothing in them can open a link, a table
# cell, emphasis, an attribute list or a template expression.
_ENTITIES = {
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    "\\": "&#92;", "`": "&#96;", "*": "&#42;", "_": "&#95;", "{": "&#123;", "}": "&#125;",
    "[": "&#91;", "]": "&#93;", "(": "&#40;", ")": "&#41;", "#": "&#35;", "+": "&#43;",
    "-": "&#45;", "!": "&#33;", "|": "&#124;", "~": "&#126;", "^": "&#94;", "=": "&#61;",
    ":": "&#58;", "%": "&#37;",
}
_ENTITY_TABLE = str.maketrans(_ENTITIES)


def page_text(value: Any) -> Markup:
    """``value`` as inert page text: HTML-escaped, Markdown-neutral, on one line."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return Markup("")
    return Markup(" ".join(str(value).translate(_ENTITY_TABLE).split()))


def safe_url(value: Any) -> str | None:
    """``value`` if it is a plain http(s) URL fit for an ``href``, else ``None``."""
    text = str(value or "").strip()
    if not text.startswith(("https://", "http://")) or any(c in text for c in "\"'<>` \t\n"):
        return None
    return text


def link(value: Any, label: Any = None) -> Markup:
    """An external link when ``value`` is a safe URL, otherwise the inert text."""
    url = safe_url(value)
    if url is None:
        return page_text(value)
    return Markup('<a href="{}" rel="nofollow noopener">{}</a>').format(url, page_text(label or url))


# timm's repository and documentation moved; recorded links to the old hosts still resolve by
# redirect, but the pages link to where they are now.
MOVED_HOSTS = (
    ("https://github.com/rwightman/pytorch-image-models/", "https://github.com/huggingface/pytorch-image-models/"),
    ("https://rwightman.github.io/pytorch-image-models/", "https://huggingface.co/docs/timm/"),
)


def current_url(value: Any) -> Any:
    """``value`` with a moved timm host replaced by the current one (anything else unchanged)."""
    if not isinstance(value, str):
        return value
    for old, new in MOVED_HOSTS:
        if value.startswith(old):
            return new + value[len(old):]
    return value


def integer(value: int) -> str:
    """``33268888`` -> ``33,268,888``."""
    return f"{value:,}"


def millions(value: float, digits: int = 2) -> str:
    return f"{value / 1e6:.{digits}f} M"


def giga(value: float, digits: int = 2) -> str:
    return f"{value / 1e9:.{digits}f} G"


def megabytes(value: int) -> str:
    """Bytes in decimal megabytes (10^6), the unit model zoos publish."""
    return f"{value / MB:.1f} MB"


def mebibytes(value: int) -> str:
    """Bytes in binary mebibytes (2^20), the unit ``ls -lh`` shows."""
    return f"{value / MIB:.1f} MiB"


def percent(part: float, whole: float, digits: int = 1) -> str:
    return f"{100 * part / whole:.{digits}f}%" if whole else "-"


def signed_percent(value: float) -> str:
    return f"{100 * value:+.2f}%"


def difference(b: float, a: float, digits: int = 2) -> str:
    """``b - a`` computed from the figures as written (``78.234 - 77.036``), then rounded half
    up: ``+1.20``. The figures are never rounded first (``78.23 - 77.04`` would say +1.19), and
    the decimal arithmetic keeps binary floating point from moving a half (``0.125``) down."""
    exact = Decimal(repr(float(b))) - Decimal(repr(float(a)))
    shown = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{shown:+.{digits}f}"


def run_conditions(bench: Any) -> str:
    """A recorded benchmark row's conditions, all read from its timm file's name and its row
    (see :mod:`dla_docs.metadata.benchmark_run`): precision, batch, layout, versions, compiled."""
    from dla_docs.metadata.benchmark_run import benchmark_run

    run = benchmark_run(bench.source)
    device = f"{run.device}, " if run.device else ""
    return device + run.conditions(bench.batch_size)


FILTERS = {
    "integer": integer,
    "millions": millions,
    "giga": giga,
    "megabytes": megabytes,
    "mebibytes": mebibytes,
    "percent": percent,
    "signed_percent": signed_percent,
    "difference": difference,
    "run_conditions": run_conditions,
    "link": link,
    "current_url": current_url,
}
