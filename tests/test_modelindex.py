"""The model-index reader: the committed template, the conventions of the wild, every problem."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dla_docs import list_models
from dla_docs.checks.zoo import check_zoo
from dla_docs.metadata import (
    METADATA_FIELDS,
    ModelIndexError,
    parse_template,
    read_template,
)
from dla_docs.metadata.values import canonical_key

DATA = Path(__file__).parent / "data"
FIXTURES = DATA / "modelindex"
PROJECT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT / "templates" / "models" / "dla.md"
SEED = DATA / "seed_dla.md"
SEED_CHROME_END = SEED.read_text(encoding="utf-8").split("\n").index("# Deep Layer Aggregation")


def seed_parts() -> tuple[list[str], list[str]]:
    """The seed's content lines (its page chrome dropped): prose, and the YAML of its comment."""
    lines = SEED.read_text(encoding="utf-8").split("\n")[SEED_CHROME_END:]
    start, end = lines.index("<!--"), lines.index("-->")
    return lines[:start], lines[start + 1:end]


def seed_records() -> list[dict[str, str]]:
    """Per model, every ``key: value`` line the seed writes for it (values as written)."""
    _, yaml_lines = seed_parts()
    models, current = [], None
    for line in yaml_lines:
        if line == "Collections:":
            break
        if line.startswith("- Name: "):
            current = {"Name": line.removeprefix("- Name: ")}
            models.append(current)
        elif current is not None and not line.startswith("- "):
            key, _, value = line.partition(":")
            current[key] = value.strip()
    return models


def write(tmp_path: Path, text: str, name: str = "t.md") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def problems_of(path: Path, root: Path | None = None) -> list:
    with pytest.raises(ModelIndexError) as raised:
        read_template(path, root)
    return raised.value.problems


# -- the committed template ------------------------------------------------------------------

# Lines the template adds to the seed's block, from timm's final template (2021).
FROM_FINAL = re.compile(r"^(Parameters: |Weights: |Results:$|- Task: |Dataset: |Metrics:$|Top [15] Accuracy: )")
SEED_URL_TYPO = ("paperswithcode.com//paper", "paperswithcode.com/paper")


def test_template_block_is_the_seed_block_reindented_plus_timms_final_records():
    template = read_template(TEMPLATE)
    _, seed_yaml = seed_parts()
    body = template.yaml.strip("\n").split("\n")
    kept = [line.strip() for line in body if not FROM_FINAL.match(line.strip())]
    assert kept == [line.strip().replace(*SEED_URL_TYPO) for line in seed_yaml]
    assert any(line.startswith("    FLOPs: ") for line in body)  # nested, not flat like the seed
    final = read_template(DATA / "timm_template_dla_final.md").index
    for entry in template.index.models:
        theirs = final.by_name(entry.name)
        assert entry.metadata["Parameters"].value == theirs.metadata["Parameters"].value
        assert entry.weights == theirs.weights and entry.code == theirs.code
        assert [(r.task, r.dataset) for r in entry.results] == [(r.task, r.dataset) for r in theirs.results]
        for metric, value in entry.results[0].metrics.items():  # the 2021 figures, corrected to timm's results
            assert abs(value - theirs.results[0].metrics[metric]) <= 0.06, (entry.name, metric)
    assert [(c.name, c.paper_title, c.url) for c in template.index.collections] == \
        [(c.name, c.paper_title, c.url) for c in final.collections]


# Typos of the seed's prose fixed on purpose (its figures are kept exactly as published).
PROSE_CORRECTIONS = {"**Dense Layer Aggregation (DLA)**": "**Deep Layer Aggregation (DLA)**",
                     "stage-bystage": "stage-by-stage",
                     # timm's docs moved from rwightman.github.io to huggingface.co/docs/timm
                     "https://rwightman.github.io/pytorch-image-models/scripts/":
                         "https://huggingface.co/docs/timm/training_script"}


def _corrected(line: str) -> str:
    for typo, fixed in PROSE_CORRECTIONS.items():
        line = line.replace(typo, fixed)
    return line


def test_template_prose_is_the_seeds_without_chrome():
    template = read_template(TEMPLATE)
    seed_prose, _ = seed_parts()
    written = [line.strip() for line in template.before.split("\n") if line.strip()]
    seed_lines = [_corrected(line.strip()) for line in seed_prose if line.strip()]
    # The prose is the seed's up to its citation, which is now rendered from citation data
    # (tests/test_citation.py); the seed's own BibTeX is kept there as the preprint record.
    cut = seed_lines.index("## Citation") + 1
    assert written[:cut] == seed_lines[:cut]
    assert "{{ citation.dla_preprint }}" in written[cut:]
    from dla_docs.metadata import citations
    from dla_docs.render.citations import bibtex

    def fields(lines):
        return {k.strip(): v.strip().strip("{},") for k, _, v in (line.partition("=") for line in lines) if v}

    seed_bibtex = seed_lines[cut + 1:seed_lines.index("```", cut + 1)]
    rendered = bibtex(citations.TEMPLATE_NAMES["dla_preprint"]).split("\n")
    assert rendered[0] == seed_bibtex[0]
    seed_fields, rendered_fields = fields(seed_bibtex[1:]), fields(rendered[1:])
    assert seed_fields.keys() == rendered_fields.keys()
    for key, value in seed_fields.items():
        if key == "author":  # "First Last and ..." written "Last, First and ..."
            names = [" ".join(reversed(n.split(", "))) for n in rendered_fields[key].split(" and ")]
            assert " and ".join(names) == value
        else:
            assert rendered_fields[key] == value, key
    assert all(typo in "".join(seed_prose) for typo in PROSE_CORRECTIONS)
    assert "{% include 'code_snippets.md' %}" in template.before
    assert "483 lines" not in template.text and "You can not select" not in template.text
    assert template.after == "\n"


def test_template_records_every_seed_figure_in_seed_order(seed_flops):
    index = read_template(TEMPLATE).index
    records = seed_records()
    assert index.names == [r["Name"] for r in records]
    assert sorted(index.names) == sorted(list_models())
    for entry, record in zip(index.models, records):
        assert entry.metadata["FLOPs"].value == seed_flops[entry.name]
        assert entry.metadata["File Size"].value == int(record["File Size"])
        assert entry.metadata["Layers"].value == int(record["Layers"])
        assert entry.code == record["Code"] and entry.config == "" and entry.in_collection == "DLA"
        assert set(entry.metadata) == {k for k in record if k in METADATA_FIELDS} | {"Parameters"}
    assert index.by_name("dla34").metadata["Layers"].value == 32  # recorded metadata, kept as published
    (collection,) = index.collections
    assert (collection.name, collection.paper_title) == ("DLA", "Deep Layer Aggregation")
    assert index.type == "model-index"


def test_every_located_value_points_at_its_written_text():
    template = read_template(TEMPLATE)
    lines = template.text.split("\n")
    for entry in template.index.models:
        for name, located in entry.metadata.items():
            if isinstance(located.value, list):
                continue  # a list's span runs to the next key; only scalars are ever rewritten
            written = template.text[located.start:located.end]
            assert lines[located.line - 1][located.column - 1:].startswith(written)
            assert lines[located.line - 1][located.key_column - 1:].startswith(f"{name}:")
            if isinstance(located.value, int):
                assert written.strip("'\"") == str(located.value)


def test_code_snippets_render_for_a_variant():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(PROJECT / "templates"), undefined=jinja2.StrictUndefined)
    from dla_docs.render.pages import citation_blocks

    page = env.get_template("models/dla.md").render(model_name="dla46x_c", citation=citation_blocks())
    assert 'create_model("dla46x_c", pretrained=True)' in page
    assert "{%" not in page and "{{" not in page


# -- conventions of the wild -----------------------------------------------------------------

def test_wild_conventions_are_normalised():
    index = read_template(FIXTURES / "wild.md").index
    flow, block = index.models
    assert flow.metadata_flow and not block.metadata_flow
    assert flow.metadata["File Size"].value == 5307963  # written '5307963'
    assert flow.metadata["Image Size"].value == 224 and flow.metadata["Crop Pct"].value == 0.875
    assert flow.metadata["Training Data"].value == ["ImageNet"]  # a single string becomes a list
    assert block.metadata["FLOPs"].value == 544052200 and block.metadata["FLOPs"].key == "FLOPS"
    assert block.metadata["Weight Decay"].value == 0.0001
    assert flow.results[0].metrics == {"Top 1 Accuracy": 64.87, "Top 5 Accuracy": 86.29}
    assert block.results[0].metrics == {"Top 1 Accuracy": 65.98, "Top 5 Accuracy": 86.99}
    assert flow.in_collection == "DLA" and index.collections[0].url == "https://arxiv.org/abs/1707.06484"


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(METADATA_FIELDS), st.data())
def test_keys_are_case_insensitive_with_underscores(field, data):
    spelled = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in field)
    spelled = spelled.replace(" ", data.draw(st.sampled_from([" ", "_"])))
    assert canonical_key(spelled) == canonical_key(field)
    value = {"Training Data": "[ImageNet]", "Crop Pct": "'0.875'", "Dropout": "0.2", "Momentum": "0.9",
             "LR": "0.1", "Weight Decay": "0.0001"}.get(field, "'12'")
    extra = "" if field in ("FLOPs", "File Size") else f"    {spelled}: {value}\n"
    flops = f"    {spelled}: 12\n" if field == "FLOPs" else "    FLOPs: 12\n"
    size = f"    {spelled}: 12\n" if field == "File Size" else "    File Size: 12\n"
    text = f"<!--\nModels:\n- Name: dla34\n  Metadata:\n{flops}{size}{extra}  In Collection: C\nCollections:\n- Name: C\n-->\n"
    entry = parse_template(text, Path("t.md")).index.models[0]
    assert field in entry.metadata


# -- problems --------------------------------------------------------------------------------

def test_every_problem_is_reported_with_its_place():
    path = FIXTURES / "problems.md"
    problems = problems_of(path)
    lines = path.read_text().split("\n")

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if fragment in line)

    expected = {
        "Models[0] (dla46_c).Metadata.FLOPs": line_of("Metadata:"),          # required, missing
        "Models[0] (dla46_c).Metadata.File Size": line_of("File Size: -5"),  # not positive
        "Models[0] (dla46_c).Metadata.Epochs": line_of("Epochs: 12.5"),      # not an integer
        "Models[0] (dla46_c).Metadata.Crop Pct": line_of("Crop Pct"),        # out of range
        "Models[0] (dla46_c).Metadata.Batch Size": line_of("Batch Size"),    # a boolean
        "Models[0] (dla46_c).Results[0].Metrics.Top 1 Accuracy": line_of("101%"),
        "Models[1] (dla46x_c).Metadata.FLOPs": line_of("4.2G"),
        "Models[1] (dla46x_c).Metadata.File Size": line_of("file_size"),     # duplicate key
        "Models[1] (dla46x_c).In Collection": line_of("DLB"),                # undefined collection
        "Models[2].Name": line_of("- Metadata:"),                            # required, missing
    }
    assert {p.field: p.location.line for p in problems} == expected
    for problem in problems:
        assert re.fullmatch(rf"{re.escape(str(path))}:\d+:\d+: {re.escape(problem.field)}: .+", str(problem))
    with pytest.raises(ModelIndexError) as raised:
        read_template(path)
    assert str(raised.value).count("\n") == len(expected) - 1


def test_indentation_error_names_its_line():
    path = FIXTURES / "bad_indent.md"
    (problem,) = problems_of(path)
    bad_line = next(i for i, line in enumerate(path.read_text().split("\n"), 1) if line.startswith("      File Size"))
    assert problem.location.line == bad_line
    assert "indentation" in problem.message


def test_the_flat_seed_is_refused_not_misread():
    (problem,) = problems_of(SEED)
    assert problem.location.line > SEED_CHROME_END and "indentation" in problem.message


def test_duplicate_model_names_both_places():
    (problem,) = problems_of(FIXTURES / "duplicate.md")
    lines = (FIXTURES / "duplicate.md").read_text().split("\n")
    places = [i for i, line in enumerate(lines, 1) if line == "- Name: dla46_c"]
    assert problem.field == "Models[2] (dla46_c).Name"
    assert problem.location.line == places[1] and f"line {places[0]}" in problem.message


@pytest.mark.parametrize("payload", [
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!custom 5",
    "&a 5",
])
def test_tags_and_anchors_are_refused(tmp_path, payload):
    text = (FIXTURES / "two_models.md").read_text().replace("FLOPs: 544052200", f"FLOPs: {payload}")
    (problem,) = problems_of(write(tmp_path, text))
    assert problem.location.line == text.split("\n").index(f"    FLOPs: {payload}") + 1
    assert "refused" in problem.message or "not allowed" in problem.message


def test_the_fixture_tag_is_refused():
    (problem,) = problems_of(FIXTURES / "tagged.md")
    assert "python/object/apply" in problem.message


def test_crlf_template_reads_like_lf(tmp_path):
    lf = read_template(FIXTURES / "two_models.md")
    path = write(tmp_path, lf.text.replace("\n", "\r\n"))
    crlf = read_template(path)
    assert crlf.newline == "\r\n"
    for a, b in zip(lf.index.models, crlf.index.models):
        assert {k: v.value for k, v in a.metadata.items()} == {k: v.value for k, v in b.metadata.items()}
        for name, located in b.metadata.items():
            assert (located.line, located.column) == (a.metadata[name].line, a.metadata[name].column)
            if not isinstance(located.value, list):
                assert crlf.text[located.start:located.end] == lf.text[a.metadata[name].start:a.metadata[name].end]


def test_block_must_exist_once_and_close(tmp_path):
    base = (FIXTURES / "two_models.md").read_text()
    cases = {
        "no block": base.replace("<!--", "").replace("-->", ""),
        "unclosed": base.replace("-->", ""),
        "two blocks": base + "\n<!--\nModels: []\n-->\n",
    }
    for name, text in cases.items():
        problems = problems_of(write(tmp_path, text, f"{name.replace(' ', '_')}.md"))
        assert len(problems) == 1, name


def test_comment_inside_a_code_fence_is_not_the_block(tmp_path):
    base = (FIXTURES / "two_models.md").read_text()
    text = "```markdown\n<!--\nModels: []\n-->\n```\n\n" + base
    assert read_template(write(tmp_path, text)).index.names == ["dla46_c", "dla46x_c"]


def test_lost_indentation_gets_a_hint(tmp_path):
    base = (FIXTURES / "two_models.md").read_text()
    text = base.replace("    Image Size: '224'\n  In Collection", "  Image Size: '224'\n  In Collection")
    (problem,) = problems_of(write(tmp_path, text))
    assert problem.field == "Models[1] (dla46x_c).Image Size" and "indentation" in problem.message
    assert problem.location.line == text.split("\n").index("  Image Size: '224'") + 1


def test_unreadable_file_is_an_input_error(tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes("<!--\nModels: []\n-->\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(Exception) as raised:
        read_template(path)
    assert getattr(raised.value, "exit_code", None) == 2 and "UTF-8" in str(raised.value)


# -- against the zoo -------------------------------------------------------------------------

def test_unknown_names_and_missing_variants_are_both_reported():
    template = read_template(FIXTURES / "unknown.md")
    mismatches = check_zoo([template], list_models())
    unknown = [m for m in mismatches if m.kind == "unknown-variant"]
    missing = {m.name for m in mismatches if m.kind == "missing-variant"}
    assert [m.name for m in unknown] == ["dla35"] and "dla34" in unknown[0].message  # a suggestion
    assert unknown[0].location.line == template.index.by_name("dla35").name_location.line
    assert missing == set(list_models()) - set(template.index.names)


def test_committed_template_covers_the_zoo_exactly():
    assert check_zoo([read_template(TEMPLATE)], list_models()) == []
