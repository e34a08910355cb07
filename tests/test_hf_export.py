"""`dla-docs export hf`: one Hub model card and config.json per variant, read back with huggingface_hub.

Oracles: the results CSV read here with the csv module, the licences and preprocessing the
issue states for timm's published weights, and the classifier's input width in the reference
state dicts (tests/data/dla_state_dicts.json).
"""

from __future__ import annotations

import csv
import json
import re

import pytest
from huggingface_hub import ModelCard

from dla_docs import list_models

from conftest import PROJECT, copy_project

UNKNOWN_LICENCE = {"dla60_res2net", "dla60_res2next"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, measurements):
    from dla_docs.cli import main

    root = copy_project(tmp_path_factory.mktemp("hf") / "project", measurements)
    out = tmp_path_factory.mktemp("hf-out") / "cards"
    assert main(["--project", str(root), "export", "hf", "-o", str(out)]) == 0
    return out


def _source_rows(variant: str) -> list[dict[str, str]]:
    with (PROJECT / "data" / "timm_results_dla.csv").open(newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f) if row["model"].split(".")[0] == variant]


def test_one_card_and_config_per_variant(exported):
    assert sorted(p.name for p in exported.iterdir()) == sorted(list_models())
    for name in list_models():
        assert sorted(p.name for p in (exported / name).iterdir()) == ["README.md", "config.json"]


@pytest.mark.parametrize("name", list_models())
def test_card_loads_and_its_eval_results_are_the_results_source(exported, name):
    card = ModelCard.load(exported / name / "README.md", ignore_metadata_errors=False)
    data = card.data
    assert data.library_name == "timm" and data.pipeline_tag == "image-classification"
    assert data.license == ("unknown" if name in UNKNOWN_LICENCE else "bsd-3-clause")
    assert "imagenet-1k" in data.datasets and "image-classification" in data.tags
    got = {(r.dataset_name, r.metric_name): r.metric_value for r in data.eval_results}
    rows = _source_rows(name)
    assert rows, name
    expected = {}
    titles = {"imagenet": "ImageNet", "imagenet-real": "ImageNet-ReaL", "imagenet-r": "ImageNet-R",
              "imagenet-a": "ImageNet-A", "sketch": "ImageNet-Sketch",
              "imagenetv2-matched-frequency": "ImageNetV2 (matched frequency)"}
    for row in rows:
        expected[(titles[row["dataset"]], "Top 1 Accuracy")] = float(row["top1"])
        expected[(titles[row["dataset"]], "Top 5 Accuracy")] = float(row["top5"])
    assert got == expected
    for result in data.eval_results:
        assert result.source_name and result.source_url.startswith("https://github.com/huggingface/")
        assert result.source_url.endswith(".csv") and result.task_type == "image-classification"
    imagenet = [r for r in data.eval_results if r.dataset_name == "ImageNet"]
    assert {r.dataset_type for r in imagenet} == {"imagenet-1k"}
    assert data.model_name == f"{name}.in1k"
    body = card.text
    assert f"(`{name}`)" in body and "@inproceedings{yu2018deep," in body
    assert ("@article{gao2021res2net," in body) == (name in UNKNOWN_LICENCE)


@pytest.mark.parametrize("name", list_models())
def test_config_json_has_what_a_loader_needs(exported, name, reference):
    config = json.loads((exported / name / "config.json").read_text(encoding="utf-8"))
    fc_weight = next(shape for key, shape, _ in reference[name]["state_dict"] if key == "fc.weight")
    assert config["architecture"] == name
    assert config["num_classes"] == fc_weight[0] == 1000
    assert config["num_features"] == fc_weight[1]
    cfg = config["pretrained_cfg"]
    assert cfg["input_size"] == [3, 224, 224] and cfg["crop_pct"] == 0.875 and cfg["interpolation"] == "bilinear"
    assert cfg["mean"] == [0.485, 0.456, 0.406] and cfg["std"] == [0.229, 0.224, 0.225]
    assert cfg["first_conv"] == "base_layer.0" and cfg["classifier"] == "fc"
    assert cfg["hf_hub_id"] == f"timm/{name}.in1k"


def test_export_of_named_variants_only(tmp_path, measurements):
    from dla_docs.cli import main

    root = copy_project(tmp_path / "project", measurements)
    out = tmp_path / "two"
    assert main(["--project", str(root), "export", "hf", "dla34", "dla60_res2next", "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["dla34", "dla60_res2next"]


BROKEN_FRONT_MATTER = [
    ("license: [unclosed", "front matter"),  # not YAML
    ("model-index:\n- name: x\n  results:\n  - task: {type: image-classification}", "model_index"),  # no dataset
    ("- a list\n- not a mapping", "dict"),
]


@pytest.mark.parametrize("yaml_text, says", BROKEN_FRONT_MATTER)
def test_a_card_with_broken_front_matter_is_rejected_in_one_line(yaml_text, says):
    from dla_docs.render.hf_card import CardError, validate_card

    with pytest.raises(CardError) as caught:
        validate_card(f"---\n{yaml_text}\n---\n# A card\n", "cards/x/README.md")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("cards/x/README.md") and says in message


def test_a_card_without_its_closing_marker_is_rejected():
    from dla_docs.render.hf_card import CardError, validate_card

    with pytest.raises(CardError, match="no metadata block"):
        validate_card("---\nlicense: mit\n---# glued to the marker\n", "x/README.md")


def test_broken_front_matter_in_the_template_writes_nothing(tmp_path, measurements, capsys):
    from dla_docs.cli import main

    root = copy_project(tmp_path / "project", measurements)
    template = root / "templates" / "hf" / "README.md"
    template.write_text(template.read_text(encoding="utf-8").replace("{{ front_matter }}",
                                                                      "{{ front_matter }}\nlicense: [oops"),
                        encoding="utf-8")
    out = tmp_path / "cards"
    assert main(["--project", str(root), "export", "hf", "dla34", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dla-docs: error: templates/hf/README.md (dla34)")
    assert "front matter" in err[0]
    assert not out.exists()


CODE_SPAN = re.compile(r"```.*?```|`[^`\n]+`", re.S)


@pytest.mark.parametrize("name", list_models())
def test_card_is_clean_markdown_with_the_analysis_sections(exported, name, measurements):
    """No HTML entity inside a code span or block (the Hub would show it literally), no raw HTML
    tag, and the receptive-field, peak-memory and throughput sections with the measured and
    recorded figures (oracles: the session's measurement and timm's benchmark CSV)."""
    text = (exported / name / "README.md").read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[1]
    for span in CODE_SPAN.findall(body):
        assert "&#" not in span and "&amp;" not in span, span
    assert not re.search(r"<(span|code|div|p|a|table|br)\b", body), re.search(r"<\w+[^>]*>", body)
    m = measurements[name]
    assert "## Receptive field" in body and "## Peak memory" in body and "## Inference throughput" in body
    for level in m.receptive_field.levels:
        assert f"| `{level.name}` | {level.stride} | {level.size} |" in body
    with (PROJECT / "data" / "timm_benchmark_dla.csv").open(newline="") as f:
        speeds = [float(r["samples_per_sec"]) for r in csv.DictReader(f) if r["model"] == name]
    assert speeds and all(f"| {s:,.0f} |" in body for s in speeds)
    licence = "unknown" if name in UNKNOWN_LICENCE else "bsd-3-clause"
    assert f"licence `{licence}`" in body
    assert "rwightman" not in text
