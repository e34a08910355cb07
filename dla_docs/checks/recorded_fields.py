"""The recorded fields checked against the published weights' configuration, and the ones no source vouches for.

``FLOPs``, ``Parameters`` and ``File Size`` are measured (:mod:`dla_docs.checks.figures`) and the
accuracies come from the results source (:mod:`dla_docs.checks.results`). Four more fields
have a source this project holds:

- ``Image Size`` must be the configured ``image-size`` (every figure is measured at it) *and*
  the input size the published weights were evaluated at (``data_config``: 224);
- ``Crop Pct`` and ``Interpolation`` must be the weights' preprocessing (``data_config``:
  0.875, bilinear); a figure written with more digits (``0.8750``) holds, the interpolation's
  case does not matter;
- ``ID`` must be the entry's ``Name`` (timm's model-index writes the model name there).

Every other recorded field (the training recipe, ``Layers``, ``Architecture``, the links) has
no source here: it is listed as *recorded, not checked*, with the reason, so that a reader
never takes its presence on a checked page for a check (:func:`unchecked_fields`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from decimal import Decimal

from dla_docs.checks.findings import FieldCheck, Finding
from dla_docs.config import Settings
from dla_docs.errors import Location
from dla_docs.metadata import ModelEntry, Template
from dla_docs.metadata.schema import METADATA_FIELDS, METRIC_FIELDS
from dla_docs.metadata.confusables import look_alike, non_ascii
from dla_docs.metadata.values import canonical_key
from dla_docs.zoo.data import data_config

_RECIPE = "the training recipe: neither the model code nor the weights' configuration records it"
_LINK = "a link: not fetched (verify works offline)"

#: Why each recorded field that is not checked cannot be: shown on the Verification page and in
#: ``verify --format json`` (``not_checked``).
NOT_CHECKED = {
    "Epochs": _RECIPE, "Batch Size": _RECIPE, "LR": _RECIPE, "Momentum": _RECIPE, "Weight Decay": _RECIPE,
    "Dropout": _RECIPE, "Training Data": _RECIPE, "Training Techniques": _RECIPE,
    "Training Resources": _RECIPE, "Training Time": _RECIPE,
    "Layers": "how layers are counted is a convention the model code does not fix",
    "Architecture": "names of building blocks, free text",
    "Tasks": "free text",
    "Code": _LINK, "Weights": _LINK, "Config": _LINK,
}
CHECKED_HERE = ("Image Size", "Crop Pct", "Interpolation", "ID")
CHECKED_FIELDS = ("FLOPs", "Parameters", "File Size", *CHECKED_HERE)
UNKNOWN_FIELD = "not a model-index field: kept as written, checked against nothing"
UNKNOWN_METRIC = "not a metric the results source records"


def _check(template: Template, entry: ModelEntry, name: str, recorded, expected, ok: bool, detail: str,
           message: str, fix) -> FieldCheck:
    located = entry.metadata[name]
    where = Location(template.display, located.line, located.column)
    finding = None if ok else Finding(
        kind="mismatch", variant=entry.name, field=f"Metadata.{name}", message=message, location=where,
        recorded=recorded, measured=expected, label=entry.label, template=template.path, fix=fix,
        measured_label="expected")
    return FieldCheck(entry.name, name, recorded, expected, "ok" if ok else "drift", detail, finding, where,
                      entry.label, template.path)


def _image_size(template: Template, entry: ModelEntry, settings: Settings, weights: int) -> FieldCheck:
    recorded, configured = entry.metadata["Image Size"].value, settings.image_size
    if recorded != configured:
        message = "every figure is measured at the configured image-size; change the setting or the entry"
        expected = configured
    else:
        message = f"the published weights were evaluated at {weights}x{weights} (data_config)"
        expected = weights
    ok = recorded == configured == weights
    return _check(template, entry, "Image Size", recorded, expected, ok,  # no fix: the setting or the entry?
                  "the configured image-size and the weights' data_config", message, None)


def _crop_pct(template: Template, entry: ModelEntry, expected: float) -> FieldCheck:
    recorded = entry.metadata["Crop Pct"].value
    ok = Decimal(str(recorded)) == Decimal(str(expected))
    return _check(template, entry, "Crop Pct", recorded, expected, ok, "the weights' data_config",
                  f"the published weights were evaluated with crop_pct {expected} (data_config)", expected)


def _interpolation(template: Template, entry: ModelEntry, expected: str) -> FieldCheck:
    recorded = entry.metadata["Interpolation"].value
    ok = str(recorded).strip().casefold() == expected.casefold()
    return _check(template, entry, "Interpolation", recorded, expected, ok, "the weights' data_config",
                  f"the published weights were evaluated with {expected} interpolation (data_config)", expected)


def _identifier(template: Template, entry: ModelEntry) -> FieldCheck:
    recorded = entry.metadata["ID"].value
    return _check(template, entry, "ID", recorded, entry.name, recorded == entry.name, "the entry's Name",
                  "the model-index ID is the model's name", entry.name)


def meant(name: str, known: tuple[str, ...]) -> str | None:
    """The known field an unknown key was probably meant to be: a look-alike spelling of it
    (``ΙD`` with a Greek iota, compared by Unicode skeleton), the same letters without their
    spaces (``ImageSize``, ``Top1 Accuracy``), else the closest spelling (``Paramters``)."""
    imitated = look_alike(name, known)
    if imitated is not None:
        return imitated
    squashed = canonical_key(name).replace(" ", "")
    same = [k for k in known if canonical_key(k).replace(" ", "") == squashed]
    if same or len(name) > 100:
        return same[0] if same else None
    close = difflib.get_close_matches(canonical_key(name), [canonical_key(k) for k in known], n=1, cutoff=0.8)
    return next((k for k in known if close and canonical_key(k) == close[0]), None)


def _letters(name: str) -> str:
    """Where a look-alike key differs from plain ASCII, said so."""
    char = non_ascii(name)
    return f" (it is written with {char}, a look-alike of a Latin letter)" if char else ""


def _misspelled(template: Template, entry: ModelEntry) -> list[FieldCheck]:
    """Unknown keys that were meant as a checked field: drift, since nothing checks what they hold."""
    out = []
    for name, located in entry.metadata.items():
        target = None if name in METADATA_FIELDS else meant(name, METADATA_FIELDS)
        if target in CHECKED_FIELDS:
            out.append(_check(template, entry, name, located.value, None, False, "not a model-index field",
                              f"{name!r} is not a model-index field, so nothing checks it{_letters(name)}; "
                              f"did you mean {target!r}?", None))
    for i, result in enumerate(entry.results):
        for name, located in result.metric_locations.items():
            target = None if name in METRIC_FIELDS else meant(name, METRIC_FIELDS)
            if target is not None:
                where = Location(template.display, located.line, located.column)
                finding = Finding(kind="mismatch", variant=entry.name, field=f"Results[{i}].Metrics.{name}",
                                  message=f"{name!r} is not a metric verify knows, so nothing checks "
                                          f"it{_letters(name)}; did you mean {target!r}?", location=where, recorded=located.value,
                                  label=entry.label, template=template.path)
                out.append(FieldCheck(entry.name, f"{name} ({result.dataset})", located.value, None, "drift",
                                      "not a model-index metric", finding, where, entry.label, template.path))
    return out


def check_recorded_fields(template: Template, entry: ModelEntry, settings: Settings) -> list[FieldCheck]:
    """Image Size, Crop Pct, Interpolation and ID, where ``entry`` records them (see the module),
    and keys misspelled from a checked field (``Paramters``, ``CropPct``): drift."""
    config = data_config(entry.name)
    checks: dict[str, Callable[[], FieldCheck]] = {
        "Image Size": lambda: _image_size(template, entry, settings, config["input_size"][1]),
        "Crop Pct": lambda: _crop_pct(template, entry, config["crop_pct"]),
        "Interpolation": lambda: _interpolation(template, entry, config["interpolation"]),
        "ID": lambda: _identifier(template, entry),
    }
    return [check() for name, check in checks.items() if name in entry.metadata] + _misspelled(template, entry)


def unchecked_fields(template: Template, entry: ModelEntry) -> list[FieldCheck]:
    """Every field ``entry`` records that no source here can vouch for, with the reason: the
    known ones of :data:`NOT_CHECKED`, then keys and metrics the model index does not define."""
    out = []
    for name, located in entry.metadata.items():
        if name not in METADATA_FIELDS and meant(name, METADATA_FIELDS) not in CHECKED_FIELDS:
            out.append(FieldCheck(entry.name, name, located.value, None, "not checked", UNKNOWN_FIELD,
                                  None, Location(template.display, located.line, located.column), entry.label,
                                  template.path))
    for result in entry.results:
        for name, located in result.metric_locations.items():
            if name not in METRIC_FIELDS and meant(name, METRIC_FIELDS) is None:
                out.append(FieldCheck(entry.name, f"Metrics.{name}", located.value, None, "not checked",
                                      UNKNOWN_METRIC, None, Location(template.display, located.line,
                                                                     located.column), entry.label, template.path))
    written: dict = dict(entry.metadata)
    for name, value in (("Code", entry.code), ("Config", entry.config), ("Weights", entry.weights)):
        if value:
            written[name] = None
    for name, why in NOT_CHECKED.items():
        if name not in written:
            continue
        located = written[name]
        value = located.value if located is not None else getattr(entry, name.lower())
        if value in (None, "", [], ()):
            continue
        where = (Location(template.display, located.line, located.column) if located is not None
                 else Location(template.display, entry.line, entry.column))
        out.append(FieldCheck(entry.name, name, value, None, "not checked", why, None, where, entry.label,
                              template.path))
    return out


def in_field_order(checks: list[FieldCheck]) -> list[FieldCheck]:
    """``checks`` (recorded, not checked) in the order of :data:`NOT_CHECKED`, each field's in
    the order found: the order :meth:`VerifyReport.unchecked_by_field` lists them in."""
    order = list(NOT_CHECKED)
    return sorted(checks, key=lambda check: order.index(check.field) if check.field in order else len(order))
