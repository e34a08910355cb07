"""A project whose model-index holds hostile strings, built once for the session.

Shared by ``test_untrusted.py`` (the generated Markdown and HTML) and ``test_browser.py``
(the page in Chromium): one real ``dla-docs build`` (MkDocs included) serves both.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from conftest import copy_project

from dla_docs.cli import main

TEMPLATE = "templates/models/dla.md"
VARIANT = "dla34"  # the entry that carries the hostile values

# field -> (YAML as written in the template, the strings a reader must see literally)
HOSTILE = {
    "Training Resources": ("'<script>window.__pwned=1</script>'", ["<script>window.__pwned=1</script>"]),
    "Interpolation": ("'<img src=x onerror=\"window.__pwned=2\">'", ['<img src=x onerror="window.__pwned=2">']),
    "Training Time": ("'{{ 7*7 }} {% for x in range(3) %}boom{% endfor %} {# hidden #}'",
                      ["{{ 7*7 }} {% for x in range(3) %}boom{% endfor %} {# hidden #}"]),
    "Training Techniques": (
        "\n    - '[click](javascript:window.__pwned=3)'\n    - '![x](http://evil.invalid/x.png)'"
        "\n    - '<a href=javascript:alert(1)>x</a>'\n    - 'x\" onmouseover=\"window.__pwned=4'",
        ["[click](javascript:window.__pwned=3)", "![x](http://evil.invalid/x.png)",
         "<a href=javascript:alert(1)>x</a>", 'x" onmouseover="window.__pwned=4']),
    "Architecture": ("\n    - '`dla34` | **fake cell** | <b>bold</b> | _x_'\n    - '&lt;script&gt; &amp; &#60;'",
                     ["`dla34` | **fake cell** | <b>bold</b> | _x_", "&lt;script&gt; &amp; &#60;"]),
}
HOSTILE_CODE = "'javascript:alert(1)'"
HOSTILE_NAME = "<script>window.__pwned=6</script>"  # an extra entry: an unknown-variant finding


def _entry_span(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"- Name: {name}\n")
    following = text.find("\n- Name: ", start + 1)
    return start, following + 1 if following >= 0 else text.index("Collections:", start)


def hostile_template(text: str) -> str:
    """The committed template with :data:`HOSTILE` values in the dla34 entry and one more entry."""
    start, end = _entry_span(text, VARIANT)
    entry = text[start:end]
    for field, (written, _) in HOSTILE.items():
        # the field's value: the rest of its line, plus the list items indented under it
        pattern = rf"(?m)^    {re.escape(field)}:.*\n(?:    - .*\n)*"
        assert re.search(pattern, entry), field
        entry = re.sub(pattern, lambda _m: f"    {field}: {written}\n".replace(": \n", ":\n"), entry, count=1)
    entry = re.sub(r"(?m)^  Code: .*$", lambda _m: f"  Code: {HOSTILE_CODE}", entry, count=1)
    extra = (f"- Name: '{HOSTILE_NAME}'\n  Metadata:\n    FLOPs: 1\n    File Size: 1\n"
             "    Training Resources: '<script>window.__pwned=7</script>'\n  In Collection: DLA\n")
    return text[:start] + entry + extra + text[end:]


_BUILT: dict[str, Path] = {}


def hostile_project(tmp_path_factory, measurements) -> Path:
    """A copy of the project with :func:`hostile_template`, after a real ``dla-docs build``.

    Built once per session whichever test module asks first.
    """
    if "root" not in _BUILT:
        root = copy_project(tmp_path_factory.mktemp("hostile") / "project", measurements)
        path = root / TEMPLATE
        path.write_text(hostile_template(path.read_text(encoding="utf-8")), encoding="utf-8")
        assert main(["--project", str(root), "build"]) == 0
        _BUILT["root"] = root
    return _BUILT["root"]


def expected_strings() -> list[str]:
    return [s for _, strings in HOSTILE.values() for s in strings]


class Page(HTMLParser):
    """Every element (tag, attributes), the visible text, and the cells of every table row."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self._in_script = False
        self._cell: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        elif tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text.append(data)
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def cell(self, field: str) -> str:
        """The value cell of the two-column row whose first cell is ``field``."""
        (row,) = [r for r in self.rows if len(r) == 2 and r[0] == field]
        return row[1]
