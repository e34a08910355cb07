"""Read and validate the model-index block of a Markdown template.

A model-index template is Markdown prose followed by an HTML comment holding YAML::

    <!--
    Models:
    - Name: dla60
      Metadata:
        FLOPs: 4256251880
        ...
      In Collection: DLA
    Collections:
    - Name: DLA
      ...
    -->

The YAML is *composed* with ruamel.yaml's (pure-Python, safe) composer, never constructed: every key
and value keeps the exact place it was written (line, column and character span), so a
problem can name ``path:line:col`` and ``--fix`` can rewrite one value without touching any
other byte; and since no Python object is ever built from the document, a tag such as
``!!python/object`` cannot run anything (it is refused anyway, as are anchors and aliases,
which no model-index file uses).

Files "in the wild" are written by hand and by several generators, so the reader accepts
their conventions: keys are case-insensitive with ``_`` for a space (``file_size``), numbers
may be strings (``'224'``, ``'0.875'``), accuracies may be percentages (``78.03%``). Values
are normalised (numbers as ``int``/``float``, lists as lists of ``str``) and keyed by the
canonical field name as the timm model index writes it.

Every problem found is collected, not just the first, and reported as
``path:line:col: Models[i] (name).Metadata.FLOPs: message``, one line each (control
characters in quoted keys and values are escaped, long values cut). A YAML syntax error
names the key path written at its line, and a quote left open is blamed where it opens,
not where the parser gives up. Hostile sizes are refused before they cost time: files over
:data:`MAX_TEMPLATE_BYTES`, ``[``/``{`` nesting deeper than :data:`~dla_docs.metadata.diagnostics.MAX_FLOW_DEPTH`, and
integers above :data:`~dla_docs.metadata.values.MAX_INT` (however their exponent is written).
"""


from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from dla_docs.errors import Location
from dla_docs.metadata.block import _line_col
from dla_docs.metadata.confusables import look_alike, non_ascii, skeleton
from dla_docs.metadata.diagnostics import (
    MAX_FLOW_DEPTH,
    key_path,
    runaway_quote,
    too_deep,
)
from dla_docs.metadata.schema import (
    _COLLECTION,
    _ENTRY,
    _METADATA,
    _METRIC,
    _PAPER,
    _RESULT,
    _TOP,
    METADATA_FIELDS,
    REQUIRED_METADATA,
    Collection,
    Located,
    ModelEntry,
    ModelIndex,
    ModelIndexError,
    Problem,
    Result,
)
from dla_docs.metadata.values import (
    CONVERTERS,
    LIST_FIELDS,
    NULL_TAG,
    TEXT_FIELDS,
    BadValue,
    canonical_key,
    finite_number,
    kind_of,
    percentage,
    plain,
)
from dla_docs.metadata.walker import Abort, Walker

# -- the model index -------------------------------------------------------------------------

def _misplaced(own: Iterable[str], level: str) -> dict[str, str]:
    return {canonical_key(n): f"'{n}' belongs under {level}; check this line's indentation" for n in own}


_ACCURACY = skeleton("accuracy")  # a metric named so, in any look-alike spelling, is a percentage


def _metadata(w: Walker, node: Node, where: str, key_node: Node,
              written_elsewhere: frozenset[str] = frozenset()) -> dict[str, Located]:
    """The normalised metadata; ``written_elsewhere`` are fields already reported as
    misplaced (written beside Metadata), which are therefore not also "missing"."""
    keys = w.mapping(node, where, _METADATA, look_alikes="keep", misplaced={
        **_misplaced(("Name", "In Collection", "Code", "Config", "Weights", "Results"), "the model, not Metadata"),
    })
    metadata: dict[str, Located] = {}
    for name, (key, value) in keys.items():
        path = f"{where}.{name}"
        try:
            if name in CONVERTERS:
                normalised: Any = CONVERTERS[name](value)
            elif name in LIST_FIELDS:
                items = [value] if isinstance(value, ScalarNode) and value.tag != NULL_TAG else w.sequence(value, path)
                normalised = []
                for item in items:
                    text = w.text_value(item, path)
                    if text is not None:
                        normalised.append(text)
            elif name in TEXT_FIELDS:
                normalised = w.text_value(value, path)
                if normalised is None:
                    continue
            else:
                normalised = plain(value)
        except BadValue as bad:
            w.problem(value, path, str(bad))
            continue
        metadata[name] = w.located(value, normalised, key)
    if not isinstance(node, MappingNode):
        return metadata  # "expected a mapping" says it all; every field would be "missing"
    for name in REQUIRED_METADATA:
        if name not in metadata and name not in keys and name not in written_elsewhere:
            imitation = next((k for k in keys if look_alike(k, (name,))), None)
            if imitation is not None:  # written with look-alike letters: said where it is
                w.problem(keys[imitation][0], f"{where}.{imitation}", f"written with {non_ascii(imitation)}, a "
                          f"look-alike of a Latin letter, so the required field is missing; did you mean {name!r}?")
            else:
                w.problem(key_node, f"{where}.{name}", "required field missing")
    return metadata


def _results(w: Walker, node: Node, where: str) -> list[Result]:
    results = []
    for i, item in enumerate(w.sequence(node, where)):
        path = f"{where}[{i}]"
        keys = w.mapping(item, path, _RESULT)
        if not keys and not isinstance(item, MappingNode):
            continue
        texts = {}
        for name in ("Task", "Dataset"):
            if name in keys:
                texts[name] = w.text_value(keys[name][1], f"{path}.{name}", required=True)
            else:
                w.problem(item, f"{path}.{name}", "required field missing")
        metrics: dict[str, float] = {}
        located: dict[str, Located] = {}
        nodes: dict[str, Node] = {}
        if "Metrics" not in keys:
            w.problem(item, f"{path}.Metrics", "required field missing")
        else:
            written = w.mapping(keys["Metrics"][1], f"{path}.Metrics", _METRIC, look_alikes="keep")
            for name, (key, value) in written.items():
                try:
                    number = percentage(value) if _ACCURACY in skeleton(name) else finite_number(value)
                except BadValue as bad:
                    w.problem(value, f"{path}.Metrics.{name}", str(bad))
                    continue
                metrics[name] = number
                located[name] = w.located(value, number, key)
                nodes[name] = value
            _check_top1_top5(w, metrics, nodes, f"{path}.Metrics")
        if all(texts.get(n) for n in ("Task", "Dataset")):
            results.append(Result(texts["Task"], texts["Dataset"], metrics, located, w.position(item.start_mark)[0]))
    return results


def _check_top1_top5(w: Walker, metrics: dict[str, float], nodes: dict[str, Node], where: str) -> None:
    """Top 1 above Top 5 on one test set is impossible: every top-1 hit is a top-5 hit."""
    top1, top5 = metrics.get("Top 1 Accuracy"), metrics.get("Top 5 Accuracy")
    if top1 is not None and top5 is not None and top1 > top5:
        w.problem(nodes["Top 1 Accuracy"], f"{where}.Top 1 Accuracy",
                  f"top-1 {top1:g}% is above top-5 {top5:g}%: impossible (every top-1 hit is also a top-5 hit)")


def _entry(w: Walker, node: Node, i: int) -> ModelEntry | None:
    where = f"Models[{i}]"
    if not isinstance(node, MappingNode):
        w.problem(node, where, f"expected a mapping with Name, Metadata and In Collection, got {kind_of(node)}")
        return None
    written = next((v.value for k, v in node.value if isinstance(k, ScalarNode) and isinstance(v, ScalarNode)
                    and canonical_key(str(k.value)) == "name" and v.value), None)
    label = f"{where} ({written})" if written else where
    keys = w.mapping(node, label, _ENTRY, misplaced=_misplaced(METADATA_FIELDS, "Metadata"))
    name = None
    if "Name" in keys:
        name = w.text_value(keys["Name"][1], f"{label}.Name", required=True)
    else:
        w.problem(node, f"{where}.Name", "required field missing")
    collection = None
    if "In Collection" in keys:
        collection = w.text_value(keys["In Collection"][1], f"{label}.In Collection", required=True)
    else:
        w.problem(node, f"{label}.In Collection", "required field missing")
    if "Metadata" in keys:
        meta_key, meta_node = keys["Metadata"]
        beside = frozenset(_METADATA[canonical_key(k.value)] for k, _ in node.value
                           if isinstance(k, ScalarNode) and canonical_key(str(k.value)) in _METADATA)
        metadata = _metadata(w, meta_node, f"{label}.Metadata", meta_key, beside)
        metadata_location = w.located(meta_node, None, meta_key)
        flow = bool(getattr(meta_node, "flow_style", False))
    else:
        w.problem(node, f"{label}.Metadata", "required field missing (with FLOPs and File Size)")
        metadata, metadata_location, flow = {}, w.located(node, None), False
    results = _results(w, keys["Results"][1], f"{label}.Results") if "Results" in keys else []
    optional = {n: w.text_value(keys[n][1], f"{label}.{n}") if n in keys else None for n in ("Code", "Config", "Weights")}
    if not name or collection is None:
        return None
    line, column = w.position(node.start_mark)
    return ModelEntry(
        name=name, index=i, in_collection=collection, metadata=metadata, results=results,
        code=optional["Code"], config=optional["Config"], line=line, column=column,
        name_location=w.located(keys["Name"][1], name, keys["Name"][0]),
        metadata_location=metadata_location, metadata_flow=flow,
        in_collection_location=w.located(keys["In Collection"][1], collection, keys["In Collection"][0]), weights=optional["Weights"],
    )


def _collections(w: Walker, node: Node) -> list[Collection]:
    collections = []
    for i, item in enumerate(w.sequence(node, "Collections")):
        where = f"Collections[{i}]"
        keys = w.mapping(item, where, _COLLECTION)
        if not keys:
            continue
        if "Name" not in keys:
            w.problem(item, f"{where}.Name", "required field missing")
            continue
        name = w.text_value(keys["Name"][1], f"{where}.Name", required=True)
        title = url = None
        if "Paper" in keys:
            paper = w.mapping(keys["Paper"][1], f"{where} ({name}).Paper", _PAPER)
            title = w.text_value(paper["Title"][1], f"{where}.Paper.Title") if "Title" in paper else None
            url = w.text_value(paper["URL"][1], f"{where}.Paper.URL") if "URL" in paper else None
        if name:
            collections.append(Collection(name, title, url, w.position(item.start_mark)[0]))
    return collections


def _check_names(w: Walker, models: list[ModelEntry], collections: list[Collection]) -> None:
    """Duplicate model and collection names; collections referenced but not defined."""
    first: dict[str, ModelEntry] = {}
    for entry in models:
        if entry.name in first:
            w.problems.append(Problem(Location(w.display, entry.name_location.line, entry.name_location.column),
                                      f"{entry.label}.Name",
                                      f"duplicate model name (first at line {first[entry.name].name_location.line})"))
        else:
            first[entry.name] = entry
    defined: dict[str, Collection] = {}
    for collection in collections:
        if collection.name in defined:
            w.problems.append(Problem(Location(w.display, collection.line), f"Collections ({collection.name})",
                                      f"duplicate collection (first at line {defined[collection.name].line})"))
        defined.setdefault(collection.name, collection)
    for entry in models:
        if entry.in_collection not in defined:
            known = ", ".join(defined) or "none is defined"
            where = entry.in_collection_location
            w.problems.append(Problem(Location(w.display, where.line, where.column), f"{entry.label}.In Collection",
                                      f"collection {entry.in_collection!r} is not defined under Collections ({known})"))


# -- YAML syntax errors ----------------------------------------------------------------------

def _syntax_problem(w: Walker, yaml: str, exc: MarkedYAMLError) -> Problem:
    """One problem for a YAML syntax error, placed where a person would fix it.

    The parser notices a missing quote only where the runaway quoted value ends, often
    dozens of lines later, so a quoted value spanning lines before the error is blamed
    instead; an unterminated one is placed at its opening quote. A tab in the indentation
    gets its own message. The field is the key path written at that line.
    """
    mark = exc.problem_mark or exc.context_mark
    runaway = runaway_quote(yaml, mark)
    if runaway is not None:
        start, end = runaway
        line, column = w.position(start)
        message = (f"invalid YAML: the quoted value opened here runs on to line {w.position(end)[0]}; "
                   f"a closing quote is missing")
        return Problem(Location(w.display, line, column), key_path(yaml, start.line) or "model-index", message)
    if exc.context and "quoted scalar" in exc.context and exc.context_mark is not None:
        mark = exc.context_mark
        line, column = w.position(mark)
        return Problem(Location(w.display, line, column), key_path(yaml, mark.line) or "model-index",
                       "invalid YAML: the quoted value opened here is never closed")
    where = Location(w.display, *w.position(mark)) if mark else Location(w.display)
    field = (key_path(yaml, mark.line) if mark else "") or "model-index"
    problem = exc.problem or exc.context or "unreadable"
    if "'\\t'" in problem or "\t" in problem:
        return Problem(where, field, "invalid YAML: a tab in the indentation; indent with spaces only")
    context = f" ({exc.context} at line {w.position(exc.context_mark)[0]})" if exc.context and exc.context_mark else ""
    hint = "; check the indentation" if re.search(r"block|mapping values|indent", f"{exc.problem} {exc.context}") else ""
    return Problem(where, field, f"invalid YAML: {problem}{context}{hint}")


def parse_index(text: str, body_start: int, body_end: int, path: Path, display: str) -> ModelIndex:
    """The model index in ``text[body_start:body_end]``; raises :class:`ModelIndexError`."""
    try:
        return _parse_index(text, body_start, body_end, path, display)
    except RecursionError:
        where = Location(display, *_line_col(text, body_start))
        raise ModelIndexError([Problem(where, "", "the model-index block is nested too deeply")]) from None


MAX_PROBLEMS = 50    # lines of one report; a file with thousands of broken entries says so in one more


def _first_problems(problems: Sequence[Problem], display: str) -> list[Problem]:
    """The problems in file order, at most :data:`MAX_PROBLEMS` and a line counting the rest."""
    ordered = sorted(problems, key=lambda p: (p.location.line, p.location.column))
    if len(ordered) <= MAX_PROBLEMS:
        return ordered
    rest = len(ordered) - MAX_PROBLEMS
    return [*ordered[:MAX_PROBLEMS], Problem(Location(display), "model-index", f"{rest} more problems not shown")]


def _parse_index(text: str, body_start: int, body_end: int, path: Path, display: str) -> ModelIndex:
    w = Walker(text, body_start, display)
    deep = too_deep(text, body_start, body_end)
    if deep is not None:
        raise ModelIndexError([Problem(Location(display, *_line_col(text, deep)), "model-index",
                                       f"the model-index block is nested too deeply (over {MAX_FLOW_DEPTH} "
                                       "levels of [ ] and { })")])
    try:
        # the safe composer keeps every node's marks and style, as the round-trip one does, and
        # skips gathering comments, which nothing here reads: 45% of a warm verify's parse
        root = YAML(typ="safe", pure=True).compose(text[body_start:body_end])
    except MarkedYAMLError as exc:
        raise ModelIndexError([_syntax_problem(w, text[body_start:body_end], exc)]) from None
    except YAMLError as exc:
        raise ModelIndexError([Problem(Location(display, *_line_col(text, body_start)), "model-index",
                                       f"invalid YAML: {exc}")]) from None
    if root is None:
        raise ModelIndexError([Problem(Location(display, *_line_col(text, body_start)), "model-index",
                                       "the model-index block is empty")])
    try:
        w.check_safe(root)
    except Abort:
        raise ModelIndexError(w.problems) from None
    top = w.mapping(root, "", _TOP, unknown="error",
                    misplaced={**_misplaced(METADATA_FIELDS, "Models[i].Metadata"),
                               **_misplaced(("Name", "Metadata", "In Collection", "Code", "Config", "Weights", "Results"),
                                            "an item of Models")})
    models: list[ModelEntry] = []
    models_line = w.position(root.start_mark)[0]
    if "Models" in top:
        models_key, models_node = top["Models"]
        models_line = w.position(models_key.start_mark)[0]
        for i, item in enumerate(w.sequence(models_node, "Models")):
            entry = _entry(w, item, i)
            if entry is not None:
                models.append(entry)
    elif isinstance(root, MappingNode):  # otherwise "expected a mapping" already says it
        w.problem(root, "Models", "required field missing")
    collections = _collections(w, top["Collections"][1]) if "Collections" in top else []
    kind = w.text_value(top["Type"][1], "Type") if "Type" in top else None
    if isinstance(root, MappingNode):
        _check_names(w, models, collections)
    if w.problems:
        raise ModelIndexError(_first_problems(w.problems, display))
    return ModelIndex(path, models, collections, models_line, kind)
