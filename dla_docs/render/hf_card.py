"""Hugging Face Hub model cards: ``<variant>/README.md`` and ``<variant>/config.json``.

A card is rendered from the same :class:`~dla_docs.render.card.Card` as the site's model card
(measurement, configuration, recorded metadata, checks), through ``templates/hf/README.md`` in
the same sandboxed Jinja environment. Its YAML front matter is made by ``huggingface_hub``'s
:class:`~huggingface_hub.ModelCardData` (``library_name``, the weights' ``license``, ``tags``,
``datasets``, ``pipeline_tag`` and a ``model-index`` whose eval results are the results
source's rows for the variant, each with ``source_name``/``source_url``), and every card is
read back with :class:`~huggingface_hub.ModelCard` with metadata errors *not* ignored before
anything is written. The Hub applies further checks of its own when a card is uploaded.

``config.json`` follows timm's layout (``architecture``, ``num_classes``, ``num_features``,
``pretrained_cfg`` with the preprocessing), plus the DLA configuration under ``dla_docs``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup

from dla_docs.errors import InputError, Location, one_line
from dla_docs.metadata import citations
from dla_docs.metadata.results import ResultsSource
from dla_docs.render.card import Card
from dla_docs.render.citations import bibtex
from dla_docs.render.pages import BLOCK_NAMES, CheckRow, part_rows
from dla_docs.render.site_model import Site
from dla_docs.render.templating import load_template, project_environment, render_template
from dla_docs.zoo.data import data_config, pretrained_config

HF_TEMPLATE = "hf/README.md"
TIMM_REPOSITORY = "https://github.com/huggingface/pytorch-image-models"
TIMM_RESULTS_COMMIT = "aa4b5850"  # the timm commit data/timm_results_dla.csv was taken from
_HUB_DATASETS = {"imagenet": "imagenet-1k"}  # results-source names that are Hub dataset ids
_METRICS = (("top1", "accuracy", "Top 1 Accuracy"), ("top5", "top_5_accuracy", "Top 5 Accuracy"))


class CardError(InputError):
    """A rendered card whose front matter ``huggingface_hub`` does not accept."""


def eval_results(name: str, results: ResultsSource | None) -> list[Any]:
    """The variant's rows of the results source as ``huggingface_hub`` eval results (top-1, top-5)."""
    from huggingface_hub import EvalResult

    out = []
    for row in results.for_variant(name) if results is not None else []:
        for attribute, metric_type, metric_name in _METRICS:
            out.append(EvalResult(
                task_type="image-classification", task_name="Image Classification",
                dataset_type=_HUB_DATASETS.get(row.dataset, row.dataset), dataset_name=row.dataset_title,
                dataset_split="validation", metric_type=metric_type, metric_name=metric_name,
                metric_value=getattr(row, attribute),
                source_name=f"timm {Path(row.source).name} ({row.model}, {row.image_size}px)",
                source_url=f"{TIMM_REPOSITORY}/blob/{TIMM_RESULTS_COMMIT}/{row.source}",
            ))
    return out


def front_matter(card: Card, results: ResultsSource | None) -> str:
    """The card's YAML metadata, as ``huggingface_hub`` writes it."""
    from huggingface_hub import ModelCardData

    weights = pretrained_config(card.name)
    evals = eval_results(card.name, results)
    data = ModelCardData(
        library_name="timm", license=weights.license, pipeline_tag="image-classification",
        tags=["image-classification", "timm", "dla", "deep-layer-aggregation"], datasets=["imagenet-1k"],
        model_name=weights.hub_id.split("/")[-1] if evals else None, eval_results=evals or None,
    )
    return data.to_yaml()


def hf_config(card: Card) -> dict[str, Any]:
    """config.json: timm's fields (what a loader needs to build the model and prepare images)."""
    config, weights, data = card.config, pretrained_config(card.name), data_config(card.name)
    side = data["input_size"][1] // 32
    return {
        "architecture": card.name,
        "num_classes": weights.num_classes,
        "num_features": config.channels[-1],
        "global_pool": "avg",
        "pretrained_cfg": {
            "tag": weights.hub_id.rsplit(".", 1)[-1],
            "hf_hub_id": weights.hub_id,
            "custom_load": False,
            "input_size": list(data["input_size"]),
            "fixed_input_size": False,
            "interpolation": data["interpolation"],
            "crop_pct": data["crop_pct"],
            "crop_mode": data["crop_mode"],
            "mean": list(data["mean"]),
            "std": list(data["std"]),
            "num_classes": weights.num_classes,
            "pool_size": [side, side],
            "first_conv": "base_layer.0",
            "classifier": "fc",
            "license": weights.license,
        },
        "dla_docs": {
            "levels": list(config.levels),
            "channels": list(config.channels),
            "block": config.block,
            "cardinality": config.cardinality,
            "base_width": config.base_width,
            "residual_root": config.residual_root,
            "parameters": card.measurement.parameters,
            "macs": card.measurement.macs,
            "image_size": card.measurement.image_size,
        },
    }


def validate_card(text: str, display: str) -> None:
    """Read ``text`` back as ``huggingface_hub`` does, metadata errors not ignored; one line if it fails."""
    import yaml
    from huggingface_hub import ModelCard

    try:
        if not text.startswith("---\n"):
            raise ValueError("the card must begin with its metadata block between '---' lines")
        card = ModelCard(text, ignore_metadata_errors=False)
        if not card.data.to_dict():
            raise ValueError("no metadata block was found (is the closing '---' on a line of its own?)")
    except (ValueError, yaml.YAMLError) as exc:
        line = 0
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 2  # the YAML starts on the line after the opening '---'
        reason = str(exc).split(". Pass `ignore_metadata_errors", 1)[0]
        raise CardError(Location(display, line), "front matter",
                        one_line(f"not a valid Hugging Face model card: {' '.join(reason.split())}")) from None


def _code_parts(card: Card) -> list[dict[str, Any]]:
    """The per-level rows with module names as Markup: they are the model's own names (not
    metadata), and they go inside backticks, where an escaped character would show as an entity."""
    return [{**row, "name": Markup(row["name"])} for row in part_rows(card.measurement)]


def render_card(env, site: Site, card: Card, results: ResultsSource | None) -> str:
    templates_dir = site.settings.root / "templates"
    weights = pretrained_config(card.name)
    return render_template(
        env, HF_TEMPLATE, templates_dir / HF_TEMPLATE,
        card=card, name=Markup(card.name), title=Markup(card.config.title), m=card.measurement,
        config=card.config, block_name=BLOCK_NAMES[card.config.block],
        front_matter=Markup(front_matter(card, results).rstrip("\n")),
        results=results.for_variant(card.name) if results is not None else [],
        results_display=results.display if results is not None else "",
        weights=weights, hub_id=Markup(weights.hub_id), timm_name=Markup(weights.hub_id.split("/")[-1]), data=data_config(card.name),
        licence=Markup(weights.license),  # the zoo's weights table, not metadata: shown in backticks
        checks=[CheckRow(c) for c in card.checks], parts=_code_parts(card), training=card.training,
        recorded=card.recorded, deploy=card.deploy,
        fields=[{"name": Markup(f.name), "stride": f.stride, "size": f.size, "offset": f.offset}
                for f in (card.measurement.receptive_field.levels if card.measurement.receptive_field else ())],
        citations=[Markup(bibtex(c)) for c in citations.for_variant(card.config.block)],
    )


def check_hf_template(settings) -> None:
    """Compile ``templates/hf/README.md`` (and follow its includes) before anything is measured."""
    load_template(project_environment(settings.root), HF_TEMPLATE)


def hf_files(site: Site, names: Sequence[str], results: ResultsSource | None) -> dict[str, bytes]:
    """``<variant>/README.md`` and ``<variant>/config.json`` for each of ``names``, all validated."""
    env = project_environment(site.settings.root)
    shown_template = (Path("templates") / HF_TEMPLATE).as_posix()
    files: dict[str, bytes] = {}
    for card in (c for c in site.cards if c.name in names):
        text = render_card(env, site, card, results).rstrip("\n") + "\n"
        validate_card(text, f"{shown_template} ({card.name})")
        files[f"{card.name}/README.md"] = text.encode("utf-8")
        files[f"{card.name}/config.json"] = (json.dumps(hf_config(card), indent=2) + "\n").encode("utf-8")
    return files
