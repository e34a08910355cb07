"""``verify`` vouches only for what it checked (issue 21): each case that once said "everything
holds" on wrong data, or wrote where it must not, run the way a user runs it.

Every case drives ``dla_docs.cli.main`` in a throw-away copy of the project (its measurement
cache warm; ``docs/`` built once per module where the pages matter). The oracles are
independent of the code under test: sizes from ``os.stat``, storages from torch, the
published preprocessing as timm's model index records it, a BibTeX parser written here, the
official CFF 1.2.0 schema, byte-for-byte snapshots of the project.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from pathlib import Path

import pytest
import torch
from conftest import DATA, copy_project
from verify_helpers import run, verify_json

from dla_docs import create_model
from dla_docs.cli import main

pytestmark = pytest.mark.timeout(300, func_only=True)
SLOW = pytest.mark.slow  # the further cases of a kind: `make test-all` and CI run them, `make test` one of each


def some_slow(cases: list, fast: int = 1) -> list:
    """``cases`` with all but the first ``fast`` marked slow."""
    return [c if i < fast else pytest.param(*(c if isinstance(c, tuple) else (c,)), marks=SLOW)
            for i, c in enumerate(cases)]

TEMPLATE = "templates/models/dla.md"
RESULTS = "data/timm_results_dla.csv"


@pytest.fixture(scope="module")
def built(tmp_path_factory, measurements) -> Path:
    """The project with docs/ generated (no site: the pages are what verify compares)."""
    root = copy_project(tmp_path_factory.mktemp("vouches") / "built", measurements)
    assert main(["--project", str(root), "build", "--no-site"]) == 0
    return root


@pytest.fixture
def project(built, tmp_path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(built, root, symlinks=True)
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes | str, int]]:
    """Every entry under ``root`` (the cache and the lock aside): its bytes (or link target) and mode."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".dla-docs-cache") or rel == ".dla-docs.lock":
            continue
        st = path.lstat()
        data = os.readlink(path) if path.is_symlink() else path.read_bytes() if path.is_file() else "dir"
        out[rel] = (data, stat.S_IMODE(st.st_mode))
    return out


def entry_span(text: str, name: str) -> tuple[int, int]:
    start = text.index(f"- Name: {name}\n")
    return start, text.index("\n- Name: ", start + 1) + 1


def edit_entry(root: Path, name: str, old: str, new: str) -> None:
    path = root / TEMPLATE
    text = path.read_text(encoding="utf-8")
    start, end = entry_span(text, name)
    entry = text[start:end]
    assert entry.count(old) == 1, old
    path.write_text(text[:start] + entry.replace(old, new) + text[end:], encoding="utf-8")


# -- 2. checkpoints whose tensors share storage, or are views ------------------------------------

@pytest.fixture(scope="module")
def dla34_state() -> dict[str, torch.Tensor]:
    return create_model("dla34").state_dict()


def expanded(state):
    """Every tensor a broadcast of one zero: right keys, shapes and dtypes; 4 or 8 bytes of data each."""
    return {k: torch.zeros((), dtype=v.dtype).expand(v.shape) for k, v in state.items()}


def overlapping(state):
    """Every float tensor a view of the start of one shared buffer."""
    buffer = torch.zeros(max(v.numel() for v in state.values()))
    return {k: (buffer[:v.numel()].view(v.shape) if v.dtype == torch.float32 else v.clone()) for k, v in state.items()}


def in_larger_storages(state):
    """Every tensor the first half of a storage twice its size."""
    return {k: torch.zeros(2 * v.numel(), dtype=v.dtype)[:v.numel()].view(v.shape) for k, v in state.items()}


FORGED = {"expanded": (expanded, "expanded or overlapping views"),
          "overlapping": (overlapping, "share their storage"),
          "larger-storage": (in_larger_storages, "views into a larger storage")}


@pytest.mark.parametrize("kind", some_slow(list(FORGED)))
def test_a_checkpoint_of_shared_or_viewed_storage_is_a_finding_and_fix_never_writes_its_size(
        project, capsys, dla34_state, kind):
    forge, says = FORGED[kind]
    folder = project / "ck"
    folder.mkdir()
    path = folder / "dla34.pth"
    torch.save(forge(dla34_state), path)
    real = folder.parent / "real.pth"
    torch.save(dla34_state, real)
    assert abs(path.stat().st_size - real.stat().st_size) > 0.05 * real.stat().st_size  # the size is wrong
    real.unlink()
    code, report, _ = verify_json(project, capsys, "--checkpoint-dir", folder)
    assert code == 1
    (finding,) = [f for f in report["findings"] if f["variant"] == "dla34"]
    assert finding["kind"] == "checkpoint" and says in finding["message"], finding
    before = (project / TEMPLATE).read_bytes()
    code, report, _ = verify_json(project, capsys, "--checkpoint-dir", folder, "--fix")
    assert code == 1 and report["fixed"] == [] and (project / TEMPLATE).read_bytes() == before
    assert f"File Size: {path.stat().st_size}\n" not in before.decode()


@SLOW
def test_the_real_checkpoint_is_used_and_fix_writes_its_exact_size(project, capsys, dla34_state):
    folder = project / "ck"
    folder.mkdir()
    torch.save(dla34_state, folder / "dla34.pth")
    size = (folder / "dla34.pth").stat().st_size
    code, report, _ = verify_json(project, capsys, "--checkpoint-dir", folder, "--fix")
    assert report["fixed"] == [{"file": TEMPLATE, "line": report["fixed"][0]["line"], "variant": "dla34",
                                "field": "Metadata.File Size", "old": 63228658, "new": size}]
    code, report, _ = verify_json(project, capsys, "--checkpoint-dir", folder)
    assert code == 1 and {f["kind"] for f in report["findings"]} == {"stale-page"}  # the pages show the old figure


@SLOW
@pytest.mark.parametrize("extra", ["optimizer", "zip-record"])
def test_a_checkpoint_carrying_more_than_the_state_dict_is_a_finding(project, capsys, dla34_state, extra):
    import zipfile

    folder = project / "ck"
    folder.mkdir()
    path = folder / "dla34.pth"
    if extra == "optimizer":  # torch.load reads it; the state dict is unwrapped, the rest weighs in
        torch.save({"state_dict": dla34_state, "optimizer": {k: v.clone() for k, v in dla34_state.items()}}, path)
    else:  # a record torch.load never reads
        torch.save(dla34_state, path)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("dla34/padding", b"\0" * 3_000_000)
    code, report, _ = verify_json(project, capsys, "--checkpoint-dir", folder, "--fix")
    (finding,) = [f for f in report["findings"] if f["variant"] == "dla34"]
    assert code == 1 and finding["kind"] == "checkpoint"
    assert ("other tensors" if extra == "optimizer" else "torch.load does not read") in finding["message"]
    assert report["fixed"] == []


# -- 9. a safetensors header bomb ---------------------------------------------------------------

def test_a_safetensors_header_bomb_is_refused_before_it_is_parsed(project, capsys, monkeypatch):
    import safetensors
    import safetensors.torch

    entries = 60_000  # ~4 MB of header; the 1.5 M entries in 89 MB took 55 s and 2.5 GB
    header = {f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(entries)}
    blob = json.dumps(header, separators=(",", ":")).encode()
    folder = project / "ck"
    folder.mkdir()
    (folder / "dla34.safetensors").write_bytes(len(blob).to_bytes(8, "little") + blob)
    parsed = []
    real_load, real_open = safetensors.torch.load_file, safetensors.safe_open
    monkeypatch.setattr(safetensors.torch, "load_file", lambda *a, **k: parsed.append(a) or real_load(*a, **k))
    monkeypatch.setattr(safetensors, "safe_open", lambda *a, **k: parsed.append(a) or real_open(*a, **k))
    before = snapshot(project)
    code, out, err = run(["--project", project, "verify", "--checkpoint-dir", folder], capsys)
    (line,) = err.splitlines()
    assert code == 2 and line.startswith("dla-docs: error: ck/dla34.safetensors: checkpoint: ")
    assert f"claims {len(blob):,} bytes" in line and "refused unread" in line
    assert parsed == [] and snapshot(project) == before


@SLOW
def test_the_published_layout_as_safetensors_is_read(project, capsys, dla34_state):
    """The header bound is the model's: a real dla34 file (and another variant's, named as such) passes it."""
    from safetensors.torch import save_file

    folder = project / "ck"
    folder.mkdir()
    save_file(dla34_state, str(folder / "dla34.safetensors"))
    save_file(create_model("dla169").state_dict(), str(folder / "dla46_c.safetensors"))
    code, report, _ = verify_json(project, capsys, "--checkpoint-dir", folder)
    by_variant = {f["variant"]: f for f in report["findings"] if f["variant"]}
    assert by_variant["dla34"]["measured"] == (folder / "dla34.safetensors").stat().st_size
    assert "it is a dla169 checkpoint" in by_variant["dla46_c"]["message"]


# -- 3. links and other odd entries in docs/ ----------------------------------------------------

@pytest.mark.parametrize("make", some_slow(["link-to-file", "link-to-folder", "link-inside", "fifo"]))
def test_a_link_or_fifo_in_docs_is_a_finding_and_a_build_removes_it(project, capsys, tmp_path, make):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0\n")
    entry = project / "docs" / "passwd.txt"
    if make == "link-to-file":
        entry.symlink_to(secret)
    elif make == "link-to-folder":
        entry.symlink_to(tmp_path, target_is_directory=True)
    elif make == "link-inside":
        entry.symlink_to("index.md")
    else:
        os.mkfifo(entry)
    code, report, _ = verify_json(project, capsys)
    (finding,) = report["findings"]
    assert code == 1 and finding["file"] == "docs/passwd.txt" and "not a generated file" in finding["message"]
    code, out, err = run(["--project", project, "build", "--no-site"], capsys)
    assert code == 0 and not os.path.lexists(entry)
    assert verify_json(project, capsys)[0] == 0


@pytest.mark.slow  # a real site build (mkdocs), twice
def test_a_warm_build_is_not_up_to_date_with_a_link_in_docs(built_project, tmp_path, capsys):
    """The build's stamp covers the files under docs/; a link there must make it build again."""
    root = tmp_path / "project"
    shutil.copytree(built_project, root, symlinks=True)
    code, out, _ = run(["--project", root, "build"], capsys)
    assert code == 0 and "up to date" in out  # the control: nothing changed, nothing built
    (root / "docs" / "passwd.txt").symlink_to(tmp_path)
    code, out, _ = run(["--project", root, "build"], capsys)
    assert code == 0 and "up to date" not in out and not os.path.lexists(root / "docs" / "passwd.txt")
    assert not (root / "site" / "passwd.txt").exists()


# -- 4. impossible accuracy -----------------------------------------------------------------------

def test_top1_above_top5_in_the_template_is_bad_input(project, capsys):
    edit_entry(project, "dla34", "Top 1 Accuracy: 74.63%", "Top 1 Accuracy: 95.50%")
    edit_entry(project, "dla34", "Top 5 Accuracy: 92.05%", "Top 5 Accuracy: 90.10%")
    before = snapshot(project)
    for command in (["verify"], ["build", "--no-site"]):
        code, out, err = run(["--project", project, *command], capsys)
        (line,) = err.splitlines()
        assert code == 2 and re.match(r"dla-docs: error: templates/models/dla\.md:\d+:\d+: Models\[\d+\] \(dla34\)"
                                      r"\.Results\[0\]\.Metrics\.Top 1 Accuracy: top-1 95\.5% is above top-5 90\.1%",
                                      line), line
    assert snapshot(project) == before


def test_top1_above_top5_in_the_results_source_is_bad_input(project, capsys):
    path = project / RESULTS
    text = path.read_text()
    row = "imagenet,dla34.in1k,224,74.632,92.052,"
    line_no = text[:text.index(row)].count("\n") + 1
    path.write_text(text.replace(row, "imagenet,dla34.in1k,224,95.50,90.10,"))
    # the template records no accuracy for dla34: the card would show the source's rows as they are
    edit_entry(project, "dla34", "  Results:\n  - Task: Image Classification\n    Dataset: ImageNet\n    Metrics:\n"
               "      Top 1 Accuracy: 74.63%\n      Top 5 Accuracy: 92.05%\n", "")
    code, out, err = run(["--project", project, "verify"], capsys)
    (line,) = err.splitlines()
    assert code == 2 and line.startswith(f"dla-docs: error: {RESULTS}:{line_no}:4: top1: top-1 95.50 is above top-5 90.10")


# -- 5. CITATION.cff deleted ----------------------------------------------------------------------

def test_a_deleted_citation_file_is_a_finding(project, capsys):
    (project / "CITATION.cff").unlink()
    code, report, _ = verify_json(project, capsys)
    (finding,) = report["findings"]
    assert code == 1 and (finding["kind"], finding["file"]) == ("missing-page", "CITATION.cff")
    assert run(["--project", project, "export", "cff"], capsys)[0] == 0
    assert verify_json(project, capsys)[0] == 0


# -- 10. exports never write into the project's own paths ------------------------------------------

@pytest.mark.parametrize("args", some_slow([
    ["export", "hf", "dla34", "-o", ".git"], ["export", "hf", "dla34", "-o", "templates"],
    ["export", "hf", "dla34", "-o", ".dla-docs-cache"], ["export", "hf", "dla34", "-o", "docs/models"],
    ["graph", "dla34", "--format", "dot", "-o", "pyproject.toml"], ["graph", "dla34", "--format", "dot", "-o", "mkdocs.yml"],
    ["graph", "dla34", "--format", "dot", "-o", "templates/models/dla.md"],
    ["export", "cff", "-o", "data/timm_results_dla.csv"], ["export", "cff", "-o", "site/CITATION.cff"],
], fast=5), ids=lambda a: " ".join(a))
def test_an_export_into_the_projects_own_paths_is_refused(project, capsys, monkeypatch, args):
    (project / ".git").mkdir()
    (project / "site").mkdir()  # as after a build: a folder the export could write into
    monkeypatch.chdir(project)
    before = snapshot(project)
    code, out, err = run(["--project", project, *args], capsys)
    (line,) = err.splitlines()
    assert code == 2 and line.startswith(f"dla-docs: error: {args[-1]}: refusing to write to "), line
    assert snapshot(project) == before


@SLOW
def test_an_export_outside_the_project_is_written(project, capsys, tmp_path):
    out = tmp_path / "elsewhere"
    assert run(["--project", project, "export", "hf", "dla34", "-o", out], capsys)[0] == 0
    assert sorted(p.name for p in (out / "dla34").iterdir()) == ["README.md", "config.json"]
    assert run(["--project", project, "graph", "dla34", "--format", "dot", "-o", out / "g.gv"], capsys)[0] == 0
    assert "digraph" in (out / "g.gv").read_text()


def test_a_link_in_the_export_folder_cannot_lead_into_the_project(project, capsys, tmp_path):
    out = tmp_path / "cards"
    out.mkdir()
    (out / "dla34").symlink_to(project / "templates", target_is_directory=True)
    before = snapshot(project)
    code, _, err = run(["--project", project, "export", "hf", "dla34", "-o", out], capsys)
    assert code == 2 and "refusing to write to the project's templates folder" in err
    assert snapshot(project) == before


def test_an_export_onto_a_read_only_file_is_refused(project, capsys, tmp_path):
    target = tmp_path / "CITATION.cff"
    target.write_text("mine\n")
    target.chmod(0o444)
    code, _, err = run(["--project", project, "export", "cff", "-o", target], capsys)
    assert code == 2 and "is read-only (mode 0444)" in err and target.read_text() == "mine\n"


# -- 11. a results CSV with a byte-order mark -----------------------------------------------------

def test_a_results_csv_with_a_byte_order_mark_is_read(project, capsys):
    path = project / RESULTS
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, report, err = verify_json(project, capsys)
    assert code == 0 and report["ok"], err
    path.write_text(path.read_text(encoding="utf-8").replace("74.632", "74.612"), encoding="utf-8")
    code, report, _ = verify_json(project, capsys)  # and still checked against: 74.63% no longer holds
    assert code == 1 and {f["variant"] for f in report["findings"] if f["variant"]} == {"dla34"}


# -- 12. recorded fields: checked where a source exists, listed where none does ---------------------

# what timm's model index records for dla34's published weights (timm's data_config: 0.875, bilinear)
@pytest.mark.parametrize("old, new, field, fixed", some_slow([
    ("Crop Pct: '0.875'", "Crop Pct: '0.95'", "Crop Pct", 0.875),
    ("Interpolation: bilinear", "Interpolation: bicubic", "Interpolation", "bilinear"),
    ("ID: dla34", "ID: dla60", "ID", "dla34"),
], fast=2))
def test_a_wrong_preprocessing_field_is_drift_and_fix_restores_it(project, capsys, old, new, field, fixed):
    edit_entry(project, "dla34", old, new)
    assert run(["--project", project, "build", "--no-site"], capsys)[0] == 0  # pages agree with the template
    code, report, _ = verify_json(project, capsys)
    (finding,) = report["findings"]
    assert code == 1 and (finding["variant"], finding["field"]) == ("dla34", f"Metadata.{field}")
    code, report, _ = verify_json(project, capsys, "--fix")
    assert [(f["field"], f["new"]) for f in report["fixed"]] == [(f"Metadata.{field}", fixed)]
    assert old in (project / TEMPLATE).read_text()


@SLOW  # measures every variant at 256
def test_an_image_size_other_than_the_weights_is_drift_even_when_configured(tmp_path, measurements):
    """The template and the setting agree on 256, but the published weights were evaluated at 224."""
    from verify_helpers import fixture_text, make_project, settings_for, verify_report

    text = fixture_text("two_models.md").replace("Image Size: '224'", "Image Size: '256'")
    root = make_project(tmp_path, {"dla.md": text}, "image-size = 256\n")
    report = verify_report(settings_for(root))
    image = [f for f in report.findings if f.field == "Metadata.Image Size"]
    assert {f.variant for f in image} == {"dla46_c", "dla46x_c"}
    assert all("evaluated at 224x224" in f.message for f in image)


def test_fields_nothing_vouches_for_are_listed_in_json_and_on_the_page(project, capsys):
    code, report, _ = verify_json(project, capsys)
    listed = {(variant, c["field"]) for c in report["not_checked"] for variant in c["where"]}
    assert code == 0 and {("dla34", "Layers"), ("dla34", "Epochs"), ("dla60", "Dropout")} <= listed
    assert not {f for _, f in listed} & {"FLOPs", "Parameters", "File Size", "Crop Pct", "Interpolation", "Image Size"}
    text = (project / TEMPLATE).read_text().split("\n")
    where = {c["field"]: c["where"] for c in report["not_checked"]}["Layers"]["dla34"]
    line, column = map(int, where.split(":")[1:])
    assert text[line - 1][column - 1:] == "32"  # the recorded value's place
    page = (project / "docs" / "verification.md").read_text()
    section = page[page.index("## Recorded, not checked"):page.index("## Per variant")]
    assert re.search(r"^\| Layers \| .* \| dla34, .*\|$", section, re.M) and "| Epochs |" in section


# -- 13. text that other tools parse ----------------------------------------------------------------

def _bibtex_entries(text: str) -> dict[str, dict[str, str]]:
    """A BibTeX reader: @type{key, field = {balanced braces}, ...}; stops where the entry breaks."""
    entries = {}
    for match in re.finditer(r"@(\w+)\{([^,\s]+),\n", text):
        fields, pos = {}, match.end()
        while field := re.compile(r"  (\w+) = \{").match(text, pos):
            depth, i = 1, field.end()
            while depth and i < len(text):
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            fields[field.group(1)] = text[field.end():i - 1]
            pos = i + (text[i:i + 2] == ",\n") * 2
        entries[match.group(2)] = {**fields, "_closed": text[pos:pos + 1] in ("\n", "}")}
    return entries


def test_a_brace_in_a_title_is_escaped_and_the_entry_stays_whole(project, capsys, monkeypatch):
    import dataclasses

    from dla_docs.metadata import citations

    hostile = dataclasses.replace(citations.DLA, title="Deep } Layer {Aggregation} 100% & $x$_1 \\end")
    monkeypatch.setattr(citations, "DLA", hostile)
    monkeypatch.setitem(citations.TEMPLATE_NAMES, "dla", hostile)
    assert run(["--project", project, "build", "--no-site"], capsys)[0] == 0
    card = (project / "docs" / "models" / "dla34.md").read_text()
    entry = _bibtex_entries(card)["yu2018deep"]
    assert entry["_closed"] and list(entry)[:3] == ["title", "author", "booktitle"] and entry["url"].startswith("https://")
    unescaped = re.sub(r"\\text(braceleft|braceright|backslash)\{\}",
                       lambda m: {"braceleft": "{", "braceright": "}", "backslash": "\\"}[m.group(1)], entry["title"])
    assert re.sub(r"\\([%&$_])", r"\1", unescaped) == hostile.title
    assert verify_json(project, capsys)[0] == 0


@pytest.mark.parametrize("field, value", some_slow([("url", "javascript:alert(1)"), ("url", "https://x.org/a}\n@misc{evil,"),
                                                    ("doi", "10.1109/x} "), ("key", "a b")], fast=2))
def test_a_citation_link_or_key_other_tools_would_misread_is_one_line(project, capsys, monkeypatch, field, value):
    import dataclasses

    from dla_docs.metadata import citations

    monkeypatch.setattr(citations, "DLA", dataclasses.replace(citations.DLA, **{field: value}))
    before = snapshot(project)
    code, out, err = run(["--project", project, "build", "--no-site"], capsys)
    (line,) = err.splitlines()
    assert code == 2 and line.startswith("dla-docs: error: dla_docs/metadata/citations.py: ")
    assert f".{field}: expected" in line and snapshot(project) == before


@pytest.mark.parametrize("licence, written", some_slow([("bsd-3-clause", "BSD-3-Clause"), ("Apache 2", None),
                                                        ("MIT OR Apache-2.0", None), ("LicenseRef-mine", None)], fast=2))
def test_export_cff_writes_only_an_spdx_licence(project, capsys, licence, written):
    import jsonschema
    import yaml

    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('license = { text = "Apache-2.0" }', f'license = "{licence}"'))
    code, out, err = run(["--project", project, "export", "cff", "-o", project / "out.cff"], capsys)
    if written is None:
        (line,) = err.splitlines()
        assert code == 2 and re.match(r"dla-docs: error: pyproject\.toml:\d+: project\.license: ", line), line
        assert not (project / "out.cff").exists()
        return
    data = yaml.safe_load((project / "out.cff").read_text())
    schema = json.loads((DATA / "cff" / "schema-1.2.0.json").read_text())
    jsonschema.validate(data, schema)
    assert data["license"] == written


@pytest.mark.parametrize("source", some_slow(["https://evil.example/x.csv", "../../etc/passwd", "results/a b.csv"]))
def test_a_results_source_that_is_not_a_timm_path_is_one_line(project, capsys, source):
    path = project / RESULTS
    text = path.read_text()
    path.write_text(text.replace("results/results-imagenet.csv\n", f"{source}\n", 1))
    first = next(i for i, line in enumerate(text.splitlines(), 1) if line.endswith("results/results-imagenet.csv"))
    code, out, err = run(["--project", project, "export", "hf", "dla34", "-o", project.parent / "cards"], capsys)
    (line,) = err.splitlines()
    assert code == 2 and line.startswith(f"dla-docs: error: {RESULTS}:{first}:9: source: expected the timm file")
    assert not (project.parent / "cards").exists()


# -- 14. --fix and a read-only template ----------------------------------------------------------------

def test_fix_refuses_a_read_only_template_and_keeps_a_writable_ones_mode(project, capsys):
    edit_entry(project, "dla34", "FLOPs: 3070105576", "FLOPs: 3070105577")
    template = project / TEMPLATE
    template.chmod(0o444)
    before = snapshot(project)
    code, out, err = run(["--project", project, "verify", "--fix"], capsys)
    (line,) = err.splitlines()
    assert code == 2 and line.startswith("dla-docs: error: templates/models/dla.md: --fix: is read-only (mode 0444)")
    assert snapshot(project) == before
    template.chmod(0o640)
    code, out, err = run(["--project", project, "verify", "--fix"], capsys)
    assert "fixed dla34 Metadata.FLOPs: 3070105577 -> 3070105576" in out
    assert stat.S_IMODE(template.stat().st_mode) == 0o640


# -- once more: the recorded sources' rows, and keys no one checks ---------------------------------

def _edit_csv(root: Path, name: str, match: str, change: dict[str, str]) -> int:
    """Set ``change`` (column -> value) in the first row starting with ``match``; its line number."""
    import csv
    import io

    path = root / name
    rows = list(csv.reader(io.StringIO(path.read_text())))
    index = next(i for i, r in enumerate(rows) if ",".join(r).startswith(match))  # the first such row
    for column, value in change.items():
        rows[index][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())
    return index + 1


def test_a_results_row_of_another_variant_is_drift(project, capsys):
    """dla60's evaluation filed as dla34's, and the template agreeing with it."""
    line = _edit_csv(project, RESULTS, "imagenet,dla34.in1k,",
                     {"top1": "77.036", "top5": "93.316", "param_count_m": "22.04"})
    edit_entry(project, "dla34", "Top 1 Accuracy: 74.63%", "Top 1 Accuracy: 77.04%")
    edit_entry(project, "dla34", "Top 5 Accuracy: 92.05%", "Top 5 Accuracy: 93.32%")
    assert run(["--project", project, "build", "--no-site"], capsys)[0] == 0  # the pages agree with both
    code, report, _ = verify_json(project, capsys)
    (finding,) = report["findings"]
    assert code == 1 and (finding["file"], finding["line"], finding["column"]) == (RESULTS, line, 6)
    assert finding["field"] == "param_count_m" and "15,742,104 parameters" in finding["message"]


@pytest.mark.parametrize("column, value", some_slow([("model", "dla34.in12k"), ("img_size", "288"), ("crop_pct", "0.95"),
                                                     ("interpolation", "bicubic"),
                                                     ("source", "results/results-imagenet-a.csv")]))
def test_a_results_row_evaluated_otherwise_is_drift(project, capsys, column, value):
    line = _edit_csv(project, RESULTS, "imagenet,dla34.in1k,", {column: value})
    assert run(["--project", project, "build", "--no-site"], capsys)[0] == 0
    code, report, _ = verify_json(project, capsys)
    (finding,) = report["findings"]
    assert code == 1 and (finding["file"], finding["line"], finding["field"]) == (RESULTS, line, column)


@pytest.mark.parametrize("column, value", some_slow([("gmacs", "4.26"), ("param_count_m", "22.04"), ("macts_m", "10.16")]))
def test_a_benchmark_row_of_another_variant_is_drift(project, capsys, column, value):
    line = _edit_csv(project, "data/timm_benchmark_dla.csv", "dla34,", {column: value})
    assert run(["--project", project, "build", "--no-site"], capsys)[0] == 0
    code, report, _ = verify_json(project, capsys)
    (finding,) = report["findings"]
    assert code == 1 and (finding["line"], finding["field"]) == (line, column)


@pytest.mark.parametrize("old, new, field", some_slow([
    ("    Parameters: 15740000\n", "    Paramters: 20000000\n", "Metadata.Paramters"),
    ("    Image Size: '224'\n", "    ImageSize: '256'\n", "Metadata.ImageSize"),
    ("      Top 5 Accuracy: 92.05%\n", "      Top5 Accuracy: 99.00%\n", "Results[0].Metrics.Top5 Accuracy"),
]))
def test_a_key_misspelled_from_a_checked_field_is_drift(project, capsys, old, new, field):
    edit_entry(project, "dla34", old, new)
    assert run(["--project", project, "build", "--no-site"], capsys)[0] == 0
    code, report, _ = verify_json(project, capsys)
    (finding,) = report["findings"]
    assert code == 1 and finding["field"] == field and "did you mean" in finding["message"]


def test_an_unknown_key_is_listed_as_not_checked(project, capsys):
    edit_entry(project, "dla34", "    ID: dla34\n", "    ID: dla34\n    Notes: trained twice\n")
    assert run(["--project", project, "build", "--no-site"], capsys)[0] == 0
    code, report, _ = verify_json(project, capsys)
    notes = {c["field"]: c for c in report["not_checked"]}["Notes"]
    assert code == 0 and list(notes["where"]) == ["dla34"] and "not a model-index field" in notes["why"]
    assert re.search(r"^\| Notes \| not a model.* \| dla34 \|$", (project / "docs" / "verification.md").read_text(), re.M)
