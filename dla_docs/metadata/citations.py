"""The works the documentation cites, as data: one source for every rendering of them.

The BibTeX on the site (the family page and every model card), the Hugging Face cards and
``CITATION.cff`` are all rendered from these records (see :mod:`dla_docs.render.citations`),
so they cannot disagree. Torch-free: reading a citation never imports the model code.

Sources: the DLA paper as the CVF open-access page and IEEE give it; the arXiv preprint as
timm's model-index template recorded it (``yu2019deep``, kept as recorded); Res2Net as IEEE
TPAMI gives it; timm as its README asks to be cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from dla_docs.errors import InputError, Location


@dataclass(frozen=True)
class Person:
    family: str
    given: str


@dataclass(frozen=True)
class Citation:
    """One work. ``kind`` is ``conference-paper``, ``article``, ``preprint`` or ``software``."""

    key: str                          # the BibTeX key
    kind: str
    title: str
    authors: tuple[Person, ...]
    year: int
    booktitle: str = ""               # conference-paper: the proceedings
    journal: str = ""                 # article
    volume: int | None = None
    number: int | None = None         # the journal issue
    pages: tuple[int, int] | None = None
    doi: str = ""
    url: str = ""                     # the work's page
    repository: str = ""              # software: its code repository
    publisher: str = ""
    eprint: str = ""                  # preprint: the arXiv identifier
    primary_class: str = ""           # preprint: the arXiv category


_DLA_AUTHORS = (Person("Yu", "Fisher"), Person("Wang", "Dequan"), Person("Shelhamer", "Evan"),
                Person("Darrell", "Trevor"))

DLA = Citation(
    key="yu2018deep", kind="conference-paper", title="Deep Layer Aggregation", authors=_DLA_AUTHORS, year=2018,
    booktitle="Proceedings of the IEEE Conference on Computer Vision and Pattern Recognition (CVPR)",
    pages=(2403, 2412), doi="10.1109/CVPR.2018.00255",
    url="https://openaccess.thecvf.com/content_cvpr_2018/html/Yu_Deep_Layer_Aggregation_CVPR_2018_paper.html",
)

DLA_PREPRINT = Citation(
    key="yu2019deep", kind="preprint", title="Deep Layer Aggregation", authors=_DLA_AUTHORS, year=2019,
    eprint="1707.06484", primary_class="cs.CV",
)

RES2NET = Citation(
    key="gao2021res2net", kind="article", title="Res2Net: A New Multi-Scale Backbone Architecture",
    authors=(Person("Gao", "Shang-Hua"), Person("Cheng", "Ming-Ming"), Person("Zhao", "Kai"),
             Person("Zhang", "Xin-Yu"), Person("Yang", "Ming-Hsuan"), Person("Torr", "Philip")),
    year=2021, journal="IEEE Transactions on Pattern Analysis and Machine Intelligence", volume=43, number=2,
    pages=(652, 662), doi="10.1109/TPAMI.2019.2938758",
)

TIMM = Citation(
    key="rw2019timm", kind="software", title="PyTorch Image Models", authors=(Person("Wightman", "Ross"),),
    year=2019, publisher="GitHub", doi="10.5281/zenodo.4414861",
    repository="https://github.com/huggingface/pytorch-image-models",
)

PREFERRED = DLA                       # what CITATION.cff asks people to cite
REFERENCES = (RES2NET, TIMM)          # what CITATION.cff lists besides it

# What the pages cite, by name for the templates: ``{{ citation.dla }}``.
TEMPLATE_NAMES = {"dla": DLA, "dla_preprint": DLA_PREPRINT, "res2net": RES2NET, "timm": TIMM}


def for_variant(block: str) -> tuple[Citation, ...]:
    """What a model card cites: the paper, Res2Net for the Res2Net variants, and timm's weights."""
    return (DLA, RES2NET, TIMM) if block == "res2net" else (DLA, TIMM)


# -- what other tools parse: identifiers and links are checked, never escaped -------------------

SOURCE = "dla_docs/metadata/citations.py"  # how errors name the records
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_:.\-]{0,63}")
# an https URL of RFC 3986 characters, without the ones BibTeX, LaTeX's \url or YAML would read
# as syntax (braces, backslash, quotes, whitespace, %, #)
_URL = re.compile(r"https://[A-Za-z0-9.\-]+(?::\d+)?(?:/[A-Za-z0-9._~!$&'()*+,;=:@/?\-]*)?")
_DOI = re.compile(r"10\.\d{4,9}/[A-Za-z0-9._;()/:\-]+")
_EPRINT = re.compile(r"\d{4}\.\d{4,5}(?:v\d+)?")
_ARXIV_CLASS = re.compile(r"[a-z\-]+(?:\.[A-Z]{2})?")
_PATTERNS = {"key": (_KEY, "a BibTeX key (letters, digits, _ : . -)"),
             "doi": (_DOI, "a DOI (10.NNNN/suffix)"),
             "url": (_URL, "an https URL"), "repository": (_URL, "an https URL"),
             "eprint": (_EPRINT, "an arXiv identifier (NNNN.NNNNN)"),
             "primary_class": (_ARXIV_CLASS, "an arXiv category (cs.CV)")}
_TEXT = ("title", "booktitle", "journal", "publisher")


def check_citation(c: Citation) -> Citation:
    """``c`` if every identifier and link in it is what the formats that carry it can parse.

    Keys, DOIs, URLs and arXiv identifiers are written verbatim (BibTeX ``url``, LaTeX's
    ``\\url``, CFF), so they are validated: an https URL, a DOI, a plain key; anything
    else is an :class:`~dla_docs.errors.InputError` naming the record and the field. Free text
    (titles, names) is escaped where it is rendered instead, but must be one line.
    """
    for name, (pattern, what) in _PATTERNS.items():
        value = getattr(c, name)
        if value and not pattern.fullmatch(value):
            raise InputError(Location(SOURCE), f"{c.key}.{name}", f"expected {what}, got {value!r}")
    texts = [(f.name, getattr(c, f.name)) for f in fields(c) if f.name in _TEXT]
    texts += [(f"authors[{i}]", f"{p.family} {p.given}") for i, p in enumerate(c.authors)]
    for name, value in texts:
        if any(ord(ch) < 32 or ch == "\x7f" for ch in value):
            raise InputError(Location(SOURCE), f"{c.key}.{name}", f"expected one line of text, got {value!r}")
    return c
