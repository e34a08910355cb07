"""BibTeX and ``CITATION.cff`` rendered from the citation records of :mod:`dla_docs.metadata.citations`.

Both formats come from the same records, field for field:

============  ==========================  =====================================
record        BibTeX                      CITATION.cff (1.2.0)
============  ==========================  =====================================
title         ``title``                   ``title``
authors       ``author`` (Family, Given)  ``authors`` (family-names, given-names)
year          ``year``                    ``year``
booktitle     ``booktitle``               ``collection-title``
journal       ``journal``                 ``journal``
volume        ``volume``                  ``volume``
number        ``number``                  ``issue``
pages         ``pages`` (start--end)      ``start``, ``end``
doi           ``doi``                     ``doi``
url           ``url``                     ``url``
repository    ``howpublished`` (\\url)     ``repository-code``
publisher     ``publisher``               ``publisher.name``
eprint        ``eprint`` (arXiv)          ``identifiers`` (arXiv:...)
============  ==========================  =====================================

Output is deterministic: same records, same bytes.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dla_docs.errors import InputError, Location
from dla_docs.metadata.citations import PREFERRED, REFERENCES, Citation, check_citation

CFF_VERSION = "1.2.0"
CFF_FILE = "CITATION.cff"
_BIBTEX_TYPES = {"conference-paper": "inproceedings", "article": "article", "preprint": "misc", "software": "misc"}
_CFF_TYPES = {"conference-paper": "conference-paper", "article": "article", "preprint": "article",
              "software": "software"}


# LaTeX's special characters in free text, as text commands. Braces become \textbraceleft{} and
# \textbraceright{}, not \{ and \}: BibTeX counts every brace, escaped or not, so an escaped
# unbalanced one would still end the field early.
_LATEX_TEXT = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
               "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "^": r"\textasciicircum{}",
               "~": r"\textasciitilde{}"}
_LATEX_SPECIAL = re.compile("[" + re.escape("".join(_LATEX_TEXT)) + "]")


def bibtex_text(text: str) -> str:
    """Free text (a title, a name) as a BibTeX field value: every LaTeX special character as a
    text command, so the value reads literally and its braces always balance."""
    return _LATEX_SPECIAL.sub(lambda m: _LATEX_TEXT[m.group()], text)


def _bibtex_name(part: str) -> str:
    """One part of an author name: braced when it holds what BibTeX would split a name list or
    a name at (a comma, the word "and")."""
    text = bibtex_text(part)
    return f"{{{text}}}" if "," in part or re.search(r"\band\b", part, re.I) else text


def bibtex(c: Citation) -> str:
    """One BibTeX entry, fields in a fixed order, two-space indented.

    Free text is escaped (:func:`bibtex_text`); keys, DOIs, URLs and arXiv identifiers are
    validated first (:func:`~dla_docs.metadata.citations.check_citation`) and written as they are.
    """
    check_citation(c)
    fields: list[tuple[str, str]] = [
        ("title", bibtex_text(c.title)),
        ("author", " and ".join(f"{_bibtex_name(p.family)}, {_bibtex_name(p.given)}" for p in c.authors)),
    ]
    if c.booktitle:
        fields.append(("booktitle", bibtex_text(c.booktitle)))
    if c.journal:
        fields.append(("journal", bibtex_text(c.journal)))
    if c.volume is not None:
        fields.append(("volume", str(c.volume)))
    if c.number is not None:
        fields.append(("number", str(c.number)))
    if c.pages:
        fields.append(("pages", f"{c.pages[0]}--{c.pages[1]}"))
    fields.append(("year", str(c.year)))
    if c.publisher:
        fields.append(("publisher", bibtex_text(c.publisher)))
    if c.doi:
        fields.append(("doi", c.doi))
    if c.url:
        fields.append(("url", c.url))
    if c.repository:
        fields.append(("howpublished", f"\\url{{{c.repository}}}"))
    if c.eprint:
        fields += [("eprint", c.eprint), ("archivePrefix", "arXiv")]
    if c.primary_class:
        fields.append(("primaryClass", c.primary_class))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{_BIBTEX_TYPES[c.kind]}{{{c.key},\n{body}\n}}"


def cff_reference(c: Citation) -> dict[str, Any]:
    """One CFF 1.2.0 reference (also the shape of ``preferred-citation``)."""
    check_citation(c)
    ref: dict[str, Any] = {
        "type": _CFF_TYPES[c.kind],
        "title": c.title,
        "authors": [{"family-names": p.family, "given-names": p.given} for p in c.authors],
        "year": c.year,
    }
    if c.booktitle:
        ref["collection-title"] = c.booktitle
        ref["collection-type"] = "proceedings"
    if c.journal:
        ref["journal"] = c.journal
    if c.volume is not None:
        ref["volume"] = c.volume
    if c.number is not None:
        ref["issue"] = str(c.number)
    if c.pages:
        ref["start"], ref["end"] = c.pages
    if c.publisher:
        ref["publisher"] = {"name": c.publisher}
    if c.doi:
        ref["doi"] = c.doi
    if c.url:
        ref["url"] = c.url
    if c.repository:
        ref["repository-code"] = c.repository
    if c.eprint:
        ref["identifiers"] = [{"type": "other", "value": f"arXiv:{c.eprint}", "description": "arXiv preprint"}]
        ref.setdefault("url", f"https://arxiv.org/abs/{c.eprint}")
    return ref


def _project_fields(root: Path) -> dict[str, Any]:
    """Title, version, licence and abstract from ``[project]`` of the project's pyproject.toml."""
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        project = {}  # settings loading reports a broken pyproject.toml; here it only names things
    fields: dict[str, Any] = {"title": str(project.get("name") or root.name)}
    if project.get("version"):
        fields["version"] = str(project["version"])
    if "license" in project:
        fields["license"] = spdx_licence(_licence_text(project["license"], root), root)
    if project.get("description"):
        fields["abstract"] = str(project["description"])
    return fields


def _licence_text(licence: Any, root: Path) -> str:
    """``[project] license`` as text (a string, or ``{text = ...}``); any other form, which
    CITATION.cff cannot carry (``license = 42``, ``{file = "LICENSE"}``), is one line naming it
    and exit 2, never left out of the file in silence."""
    text = licence.get("text") if isinstance(licence, dict) and set(licence) == {"text"} else licence
    if isinstance(text, str) and text.strip():
        return text
    if isinstance(licence, dict) and "file" in licence:
        why = (f"a licence file ({licence.get('file')!r}) cannot go into CITATION.cff, whose license must be an "
               "SPDX identifier: write license = \"Apache-2.0\" (or the licence's own identifier)")
    else:
        why = f"expected an SPDX licence identifier (e.g. \"Apache-2.0\"), got {licence!r}"
    raise InputError(Location("pyproject.toml", _line_of(root / "pyproject.toml", "license")), "project.license", why)


def spdx_licence(licence: str, root: Path) -> str:
    """``licence`` as the SPDX identifier CITATION.cff's ``license`` must be (``bsd-3-clause`` ->
    ``BSD-3-Clause``); anything else (free text, an expression, a ``LicenseRef-``) is one line
    naming pyproject.toml's ``license`` and exit 2, rather than a file other tools reject."""
    from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

    try:
        canonical = canonicalize_license_expression(licence)
    except InvalidLicenseExpression:
        canonical = ""
    if not re.fullmatch(r"[A-Za-z0-9.+\-]+", canonical) or canonical.startswith("LicenseRef-"):
        line = _line_of(root / "pyproject.toml", "license")
        raise InputError(Location("pyproject.toml", line), "project.license",
                         f"{licence!r} is not an SPDX licence identifier (e.g. Apache-2.0, MIT, BSD-3-Clause); "
                         "CITATION.cff's license must be one")
    return canonical


def _line_of(path: Path, key: str) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    return next((i for i, line in enumerate(lines, 1) if re.match(rf"\s*{key}\s*=", line)), 0)


def citation_cff(root: Path, preferred: Citation = PREFERRED, references: Sequence[Citation] = REFERENCES) -> str:
    """The project's ``CITATION.cff``: the software, the paper to cite, and what it builds on."""
    project = _project_fields(root)
    data: dict[str, Any] = {
        "cff-version": CFF_VERSION,
        "message": "If you use these models or figures, please cite the Deep Layer Aggregation paper "
                   "(preferred-citation) and the works listed under references.",
        "type": "software",
        "title": project.pop("title"),
    }
    data["authors"] = [{"name": f"The {data['title']} contributors"}]
    data.update(project)
    data["preferred-citation"] = cff_reference(preferred)
    data["references"] = [cff_reference(c) for c in references]
    header = ("# Generated by `dla-docs export cff` from dla_docs/metadata/citations.py, the records the\n"
              "# pages' BibTeX is rendered from; edit them there and export again.\n")
    import yaml  # imported here: a warm verify takes the file from the store (cff_inputs)

    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)


def cff_inputs(root: Path) -> tuple[str, ...]:
    """What :func:`citation_cff` of the project at ``root`` reads besides the package's code (and
    the citation records in it): the project folder's name, the digest of its pyproject.toml, and
    the versions of PyYAML and packaging, which write the file and check its licence. A kept
    ``CITATION.cff`` is named by them (:class:`~dla_docs.render.page_cache.PageCache`)."""
    from importlib import metadata

    try:
        pyproject = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()
    except OSError as exc:
        pyproject = f"unreadable: {exc.errno}"
    versions = []
    for package in ("PyYAML", "packaging"):
        try:
            versions.append(metadata.version(package))
        except metadata.PackageNotFoundError:
            versions.append("-")
    return (root.name, pyproject, *versions)
