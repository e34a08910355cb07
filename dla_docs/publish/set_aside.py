"""Inline SVGs set aside while MkDocs parses the pages, and put back into the pages it writes.

The cards, the family page and the diff pages carry their graphs and plots as inline SVG
(2.5 MB of the 2.9 MB of pages). MkDocs parses every tag of them twice, once in Markdown's
raw-HTML handling and once in the search plugin's HTML parser, although both leave them as they
are: they sit in containers marked ``data-search-exclude`` and Markdown copies raw HTML verbatim.
That was about half of a site build's CPU time (2.3 s; 1.3 s without). :class:`SetAsideSvgs` replaces each such SVG by a short HTML
comment when a page's Markdown is read (``on_page_markdown``) and puts the same bytes back into
the finished HTML (``on_post_page``), so the site is byte for byte the one a plain ``mkdocs build``
writes (``tests/test_site_reproducible.py`` compares them), only sooner.

Only an SVG whose raw-HTML block is marked ``data-search-exclude`` is set aside: any other SVG's
text could be in the search index, and stays where it is. ``dla-docs build`` adds the plugin to the
configuration it loads; ``mkdocs.yml`` does not name it, so a plain ``mkdocs build`` or Zensical
builds the same pages without it.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from mkdocs.plugins import BasePlugin

_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def _excluded_block(markdown: str, start: int) -> bool:
    """Whether the raw-HTML block holding the SVG at ``start`` is kept out of the search index."""
    block = markdown.rfind("\n\n", 0, start)
    return "data-search-exclude" in markdown[block + 1:start]


class SetAsideSvgs(BasePlugin):
    """Holds each page's search-excluded SVGs from its Markdown to its HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.held: dict[str, list[str]] = {}
        self.mark = f"dla-docs-svg-{secrets.token_hex(8)}"  # no page can hold it by chance
        self.placeholder = re.compile(rf"<!--{self.mark}:(\d+)-->")

    def on_page_markdown(self, markdown: str, page: Any, **_: Any) -> str:
        kept: list[str] = []

        def hold(match: re.Match[str]) -> str:
            if not _excluded_block(markdown, match.start()):
                return match.group()
            kept.append(match.group())
            return f"<!--{self.mark}:{len(kept) - 1}-->"

        text = _SVG.sub(hold, markdown)
        self.held[page.file.src_uri] = kept
        return text

    def on_post_page(self, output: str, page: Any, **_: Any) -> str:
        kept = self.held.pop(page.file.src_uri, [])
        return self.placeholder.sub(lambda m: kept[int(m.group(1))], output)
