"""`dla-docs verify`: every comparison, every format, every exit code, and no change on disk."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil

import pytest
import torch
from conftest import copy_project
from hypothesis import example, given
from hypothesis import strategies as st
from verify_helpers import (
    COMMITTED,
    DATA,
    PROJECT,
    committed_text,
    fixture_text,
    line_of,
    make_project,
    run_cli,
    settings_for,
    tree_hashes,
    verify_report,
)

from dla_docs import create_model, list_models
from dla_docs.checks.checkpoints import scan_checkpoints
from dla_docs.checks.freshness import DIFF_LINES, check_pages
from dla_docs.checks.figures import parameters_hold
from dla_docs.config import load_settings
from dla_docs.errors import InputError
from dla_docs.measure.conventions import FVCORE
from dla_docs.metadata import read_template


def seed_file_sizes() -> dict[str, int]:
    text = (DATA / "seed_dla.md").read_text(encoding="utf-8")
    sizes = {}
    models = text.split("\nCollections:", 1)[0]
    for block in models.split("\n- Name: ")[1:]:
        name = block.split("\n", 1)[0]
        sizes[name] = int(re.search(r"^File Size: (\d+)$", block, re.M).group(1))
    return sizes


def small(tmp_path, text, name="t.md"):
    """A project holding one small template, read back, with its settings."""
    root = make_project(tmp_path / "project", {name: text})
    settings = settings_for(root)
    return settings, read_template(root / name, root)


# -- the committed template ------------------------------------------------------------------

def test_committed_template_holds_under_the_committed_settings(tmp_path, measurements):
    settings = load_settings(copy_project(tmp_path / "project", measurements))
    report = verify_report(settings, whole_zoo=True)
    assert report.ok, report.findings
    assert report.models == len(list_models())
    assert report.checked >= 3 * report.models  # FLOPs, File Size and Image Size of each


def test_every_seed_file_size_holds_at_the_default_tolerance(measurements):
    tolerance = load_settings(PROJECT).file_size_tolerance
    sizes = seed_file_sizes()
    assert sorted(sizes) == sorted(list_models())
    relative = {n: abs(measurements[n].checkpoint_bytes - s) / s for n, s in sizes.items()}
    assert max(relative.values()) <= tolerance, relative
    assert max(relative.values()) > 0  # another serializer: an exact check would cry wolf


def test_cli_exits_0_on_the_committed_template(tmp_path, measurements, capsys):
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(PROJECT / "data", root / "data")  # the results source it names
    shutil.copy(PROJECT / "CITATION.cff", root / "CITATION.cff")  # and the citation file
    (root / "templates" / "models").mkdir(parents=True)
    shutil.copy(COMMITTED, root / "templates" / "models" / "dla.md")
    make_project(tmp_path / "warm", {"x.md": ""})  # fills a cache to copy
    shutil.copytree(tmp_path / "warm" / ".cache", root / load_settings(root).cache_dir.relative_to(root))
    before = tree_hashes(root)
    code, out, err = run_cli(["--project", str(root), "verify"], capsys)
    assert code == 0, out + err
    assert "everything holds" in out
    assert tree_hashes(root) == before


# -- FLOPs -----------------------------------------------------------------------------------

def test_flops_off_by_one_is_one_finding(tmp_path, measurements, seed_flops):
    text = fixture_text("two_models.md").replace(
        f"FLOPs: {seed_flops['dla46x_c']}", f"FLOPs: {seed_flops['dla46x_c'] + 1}")
    settings, template = small(tmp_path, text)
    (finding,) = verify_report(settings).findings
    assert (finding.kind, finding.variant, finding.field) == ("mismatch", "dla46x_c", "Metadata.FLOPs")
    assert (finding.recorded, finding.measured) == (seed_flops["dla46x_c"] + 1, seed_flops["dla46x_c"])
    assert finding.difference == -1 and finding.relative_difference == pytest.approx(-1 / finding.recorded)
    assert finding.location.line == line_of(text, f"FLOPs: {seed_flops['dla46x_c'] + 1}")
    assert finding.fix == seed_flops["dla46x_c"]


def test_cli_flops_off_by_one_exits_1_naming_variant_and_field(tmp_path, measurements, seed_flops, capsys):
    text = committed_text().replace(f"FLOPs: {seed_flops['dla169']}", f"FLOPs: {seed_flops['dla169'] + 1}")
    root = make_project(tmp_path / "p", {"dla.md": text})
    before = tree_hashes(root)
    code, out, _ = run_cli(["--project", str(root), "verify"], capsys)
    assert code == 1
    finding_lines = [line for line in out.splitlines() if line.startswith("dla.md:")]
    assert len(finding_lines) == 1
    line = finding_lines[0]
    assert line.startswith(f"dla.md:{line_of(text, str(seed_flops['dla169'] + 1))}:")
    assert "(dla169).Metadata.FLOPs" in line
    assert f"recorded {seed_flops['dla169'] + 1}" in line and f"measured {seed_flops['dla169']}" in line
    assert "difference -1" in line and "%" in line
    assert tree_hashes(root) == before  # verify without --fix changes no file


def test_flops_follow_the_configured_convention(tmp_path, measurements):
    settings, template = small(tmp_path, fixture_text("two_models.md"))
    assert verify_report(settings).ok
    report = verify_report(dataclasses.replace(settings, convention=FVCORE))
    assert {f.variant for f in report.findings} == set(template.index.names)
    for finding in report.findings:
        assert finding.field == "Metadata.FLOPs" and finding.measured == measurements[finding.variant].macs
        assert "fvcore" in finding.message


# -- Parameters ------------------------------------------------------------------------------

def round_to(value: int, digits: int) -> int:
    unit = 10 ** max(len(str(value)) - digits, 0)
    return (value + unit // 2) // unit * unit


def with_parameters(text: str, value: int) -> str:
    return text.replace("    File Size: 5307963", f"    Parameters: {value}\n    File Size: 5307963", 1)


def test_rounded_parameters_pass_and_wrong_ones_fail(tmp_path, measurements):
    measured = measurements["dla46_c"].parameters
    rounded = round_to(measured, 4)
    cases = {
        rounded: True,                               # 4 significant digits, correctly rounded
        round_to(measured, 3): True,                 # 3 significant digits: the least accepted
        1000000: False,                              # the figure: trailing zeros are no precision
        round_to(measured, 3) + 10 ** (len(str(measured)) - 3): False,  # 3 digits, the last one wrong
        rounded + 10 ** (len(str(rounded)) - 4): False,   # wrong at the precision written
        measured: True,                              # written to the unit, exact
        measured + 1: False,                         # written to the unit, off by one
    }
    for i, (recorded, holds) in enumerate(cases.items()):
        settings, template = small(tmp_path / str(i), with_parameters(fixture_text("two_models.md"), recorded))
        findings = verify_report(settings).findings
        assert (findings == []) is holds, (recorded, findings)
        if not holds:
            (finding,) = findings
            assert finding.field == "Metadata.Parameters" and finding.measured == measured
            assert "3 or more significant digits" in finding.message


def decimal_roundings(measured: int) -> set[int]:
    """Every rounding of ``measured`` to 3 or more significant digits, half up and half even (decimal)."""
    from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

    out = set()
    for digits in range(3, len(str(measured)) + 1):
        exponent = Decimal(1).scaleb(len(str(measured)) - digits)
        for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN):
            out.add(int(Decimal(measured).quantize(exponent, rounding=mode)))
    return out | {measured}


@given(st.integers(1, 10**10), st.integers(1, 10), st.integers(-3, 3))
@example(3675, 3, -1)  # an exact half rounded down (3670) is no rounding: found by Hypothesis, once passed
def test_parameters_hold_only_at_3_or_more_significant_digits(measured, digits, steps):
    """Oracle: the roundings computed with decimal; trailing zeros never count as precision."""
    rounded = round_to(measured, digits)
    for recorded in (rounded, rounded + steps * 10 ** max(len(str(rounded)) - digits, 0), measured + steps):
        if recorded > 0:
            assert parameters_hold(recorded, measured) is (recorded in decimal_roundings(measured)), recorded


@pytest.mark.parametrize("variant, recorded", [("dla169", 100000000), ("dla34", 20000000), ("dla46_c", 1000000),
                                               ("dla60", 20000000), ("dla102", 30000000), ("dla46x_c", 1000000)])
def test_trailing_zeros_do_not_pass_a_wrong_figure(variant, recorded, measurements):
    """The issue's figures: off by tens of percent, written with trailing zeros."""
    assert not parameters_hold(recorded, measurements[variant].parameters)


# -- File Size -------------------------------------------------------------------------------

def test_file_size_tolerance_is_relative_and_configurable(tmp_path, measurements):
    measured = measurements["dla46_c"].checkpoint_bytes
    base = fixture_text("two_models.md")
    for i, (factor, holds) in enumerate(((1.019, True), (0.981, True), (1.021, False), (0.979, False))):
        recorded = round(measured * factor)
        settings, template = small(tmp_path / str(i),
                                   base.replace("File Size: 5307963", f"File Size: {recorded}"))
        findings = verify_report(settings).findings
        assert (findings == []) is holds, (factor, findings)
        if not holds:
            assert findings[0].field == "Metadata.File Size" and "2% tolerance" in findings[0].message
            assert verify_report(dataclasses.replace(settings, file_size_tolerance=0.05)).ok


@pytest.mark.slow  # measures every variant at 256
def test_image_size_must_be_the_configured_one(tmp_path, measurements):
    settings, template = small(tmp_path, fixture_text("two_models.md"))
    report = verify_report(dataclasses.replace(settings, image_size=256))
    image = [f for f in report.findings if f.field == "Metadata.Image Size"]
    assert {(f.variant, f.field) for f in image} == {(n, "Metadata.Image Size") for n in template.index.names}
    assert not any(f.fixable for f in image)


def test_results_are_read_and_counted(tmp_path, measurements):
    settings, template = small(tmp_path, fixture_text("wild.md"))
    plain = small(tmp_path / "plain", fixture_text("two_models.md"))
    report = verify_report(settings)
    assert report.ok, report.findings
    metrics = sum(len(r.metrics) for e in template.index.models for r in e.results)
    assert metrics == 4
    assert report.checked >= metrics + 2 * len(template.index.models)
    assert verify_report(plain[0]).checked < report.checked


# -- input errors and the zoo ----------------------------------------------------------------

@pytest.mark.parametrize("fixture, needle", [("bad_indent.md", "      File Size"), ("duplicate.md", "- Name: dla46_c")])
def test_invalid_input_exits_2_with_its_line_and_changes_nothing(tmp_path, measurements, capsys, fixture, needle):
    text = fixture_text(fixture)
    root = make_project(tmp_path / "p", {fixture: text})
    before = tree_hashes(root)
    code, out, err = run_cli(["--project", str(root), "verify", "--fix"], capsys)
    assert code == 2
    expected_line = line_of(text, needle, -1)
    assert re.search(rf"^dla-docs: error: {re.escape(fixture)}:{expected_line}:\d+: ", err, re.M), err
    assert "Traceback" not in err + out
    assert tree_hashes(root) == before


def test_invalid_input_in_machine_formats(tmp_path, measurements, capsys):
    text = fixture_text("duplicate.md")
    root = make_project(tmp_path / "p", {"d.md": text})
    code, out, _ = run_cli(["--project", str(root), "verify", "--format", "json"], capsys)
    record = json.loads(out)
    assert code == 2 and record["exit_code"] == 2 and not record["ok"]
    assert [e["line"] for e in record["errors"]] == [line_of(text, "- Name: dla46_c", -1)]
    code, out, _ = run_cli(["--project", str(root), "verify", "--format", "github"], capsys)
    assert code == 2 and out.startswith(f"::error file=d.md,line={line_of(text, '- Name: dla46_c', -1)},")


def test_unknown_name_and_missing_variants_are_all_reported(tmp_path, measurements, capsys):
    text = fixture_text("unknown.md")
    root = make_project(tmp_path / "p", {"u.md": text})
    code, out, _ = run_cli(["--project", str(root), "verify", "--format", "json"], capsys)
    assert code == 1
    findings = json.loads(out)["findings"]
    unknown = [f for f in findings if f["kind"] == "unknown-variant"]
    assert [(f["variant"], f["line"]) for f in unknown] == [("dla35", line_of(text, "- Name: dla35"))]
    missing = {f["variant"] for f in findings if f["kind"] == "missing-variant"}
    assert missing == set(list_models()) - {"dla46_c"}
    assert len(findings) == 1 + len(missing)  # dla46_c itself holds


def test_a_checkpoint_folder_outside_the_project_is_refused(tmp_path, measurements, capsys):
    root = make_project(tmp_path / "p", {"t.md": fixture_text("two_models.md")})
    code, _, err = run_cli(["--project", str(root), "verify", "--checkpoint-dir", str(tmp_path)], capsys)
    assert code == 2 and "outside the project" in err, err


# -- formats ---------------------------------------------------------------------------------

def test_formats_carry_the_same_facts(tmp_path, measurements, seed_flops, capsys):
    text = committed_text().replace(f"FLOPs: {seed_flops['dla34']}", f"FLOPs: {seed_flops['dla34'] - 7}")
    root = make_project(tmp_path / "p", {"models/dla.md": text})
    line = line_of(text, f"FLOPs: {seed_flops['dla34'] - 7}")
    code, out, _ = run_cli(["--project", str(root), "verify", "--format", "json"], capsys)
    (finding,) = json.loads(out)["findings"]
    assert code == 1
    assert finding | {"relative_difference": None} == finding | {
        "kind": "mismatch", "variant": "dla34", "field": "Metadata.FLOPs", "file": "models/dla.md", "line": line,
        "recorded": seed_flops["dla34"] - 7, "measured": seed_flops["dla34"], "difference": 7, "fixable": True,
        "relative_difference": None}
    assert finding["relative_difference"] == pytest.approx(7 / (seed_flops["dla34"] - 7))
    code, out, _ = run_cli(["--project", str(root), "verify", "--format", "github"], capsys)
    (annotation,) = [a for a in out.splitlines() if a.startswith("::error")]
    assert code == 1
    assert annotation.startswith(f"::error file=models/dla.md,line={line},col=")
    assert "title=dla34 Metadata.FLOPs::" in annotation
    assert f"recorded {seed_flops['dla34'] - 7}, measured {seed_flops['dla34']}" in annotation
    assert "%25" in annotation  # '%' escaped as GitHub requires


# -- generated pages -------------------------------------------------------------------------

def test_check_pages_lists_stale_missing_and_extra_files(tmp_path):
    docs = tmp_path / "docs"
    (docs / "models").mkdir(parents=True)
    (docs / "index.md").write_bytes(b"same\n")
    (docs / "models" / "dla34.md").write_bytes(b"# dla34\nold figure 1\n")
    (docs / "models" / "gone.md").write_bytes(b"removed variant\n")
    (docs / "logo.png").write_bytes(b"\x89PNG\x00\x01")
    rendered = {
        "index.md": b"same\n",
        "models/dla34.md": b"# dla34\nnew figure 2\n",
        "models/dla46_c.md": b"# dla46_c\n",
        "logo.png": b"\x89PNG\x00\x02\x03",
    }
    findings = {f.field: f for f in check_pages(docs, rendered, "docs")}
    assert {k: f.kind for k, f in findings.items()} == {
        "models/dla34.md": "stale-page", "models/gone.md": "extra-page",
        "models/dla46_c.md": "missing-page", "logo.png": "stale-page"}
    stale = findings["models/dla34.md"]
    assert str(stale.location) == "docs/models/dla34.md"
    assert "-old figure 1" in stale.diff and "+new figure 2" in stale.diff
    assert "binary" in findings["logo.png"].diff[0]
    long_old = "".join(f"line {i}\n" for i in range(200)).encode()
    (docs / "index.md").write_bytes(long_old)
    (stale_index,) = [f for f in check_pages(docs, {**rendered, "index.md": long_old.upper()}) if f.field == "index.md"]
    assert 0 < len(stale_index.diff) <= DIFF_LINES


def test_check_pages_is_silent_before_the_first_build(tmp_path):
    assert check_pages(tmp_path / "docs", {"index.md": b"x"}) == []
    (tmp_path / "docs").mkdir()
    assert check_pages(tmp_path / "docs", {"index.md": b"x"}) == []


def test_verify_renders_pages_only_when_there_are_pages(tmp_path, measurements, capsys, monkeypatch):
    from conftest import copy_project

    from dla_docs.render import pages

    root = copy_project(tmp_path / "project", measurements)
    render = pages.render_docs
    calls = []

    def counting_render(*args, **kwargs):
        calls.append(1)
        return render(*args, **kwargs)

    monkeypatch.setattr(pages, "render_docs", counting_render)
    code, out, _ = run_cli(["--project", str(root), "verify"], capsys)
    assert code == 0 and calls == [] and "pages not checked" in out
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_bytes(b"stale\n")
    code, out, _ = run_cli(["--project", str(root), "verify", "--format", "json"], capsys)
    assert code == 1 and calls == [1]
    findings = {(f["kind"], f["field"]) for f in json.loads(out)["findings"]}
    assert ("stale-page", "index.md") in findings


# -- real checkpoints ------------------------------------------------------------------------

def test_checkpoint_files_belong_to_the_longest_variant_name(tmp_path):
    for name in ("dla60-1.pth", "dla60x-2.safetensors", "dla60x_c-3.pth", "res2net_dla60.pth", "dla34.txt"):
        (tmp_path / name).write_bytes(b"")
    assert {k: v.name for k, v in scan_checkpoints(tmp_path, list_models()).files.items()} == {
        "dla60": "dla60-1.pth", "dla60x": "dla60x-2.safetensors", "dla60x_c": "dla60x_c-3.pth"}
    (tmp_path / "dla60-4.pth").write_bytes(b"")
    with pytest.raises(InputError, match="2 checkpoints for dla60"):
        scan_checkpoints(tmp_path, list_models())


def test_real_checkpoint_makes_file_size_exact(tmp_path, measurements):
    settings, template = small(tmp_path, fixture_text("two_models.md"))
    folder = settings.root / "checkpoints"
    folder.mkdir()
    torch.save(create_model("dla46_c").state_dict(), folder / "dla46_c-0123abcd.pth")
    size = (folder / "dla46_c-0123abcd.pth").stat().st_size
    (finding,) = verify_report(settings, checkpoint_dir=folder).findings
    assert (finding.variant, finding.field, finding.measured) == ("dla46_c", "Metadata.File Size", size)
    assert "exactly" in finding.message
    exact = template.text.replace("File Size: 5307963", f"File Size: {size}")
    settings, template = small(tmp_path / "exact", exact)
    shutil.copytree(folder, settings.root / "checkpoints")
    report = verify_report(settings, checkpoint_dir=settings.root / "checkpoints")
    assert report.ok, report.findings


def test_safetensors_checkpoint_is_compared_too(tmp_path, measurements):
    from safetensors.torch import save_file

    settings, template = small(tmp_path, fixture_text("two_models.md"))
    folder = settings.root / "weights"
    folder.mkdir()
    save_file(create_model("dla46x_c").state_dict(), str(folder / "dla46x_c.safetensors"))
    (finding,) = verify_report(settings, checkpoint_dir=folder).findings
    assert finding.variant == "dla46x_c" and finding.measured == (folder / "dla46x_c.safetensors").stat().st_size


def test_checkpoint_of_another_model_is_a_finding(tmp_path, measurements):
    settings, template = small(tmp_path, fixture_text("two_models.md"))
    folder = settings.root / "checkpoints"
    folder.mkdir()
    torch.save(create_model("dla46x_c").state_dict(), folder / "dla46_c.pth")  # grouped convs: other shapes
    findings = verify_report(settings, checkpoint_dir=folder).findings
    kinds = {f.kind: f for f in findings}
    assert "checkpoint" in kinds and "does not load strictly into dla46_c" in kinds["checkpoint"].message


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_pickled_code_in_a_checkpoint_is_refused_unrun(tmp_path, measurements, capsys, monkeypatch):
    root = make_project(tmp_path / "p", {"t.md": fixture_text("two_models.md")})
    (root / "ck").mkdir()
    torch.save({"weight": _Evil()}, root / "ck" / "dla46_c.pth")
    monkeypatch.chdir(root)
    before = tree_hashes(root)
    cached = sorted((root / ".cache").rglob("*"))
    code, _, err = run_cli(["--project", str(root), "verify", "--fix", "--no-cache", "--checkpoint-dir", "ck"], capsys)
    assert code == 2 and "refused" in err and "ck/dla46_c.pth" in err
    assert not (root / "PWNED").exists()
    assert tree_hashes(root) == before and sorted((root / ".cache").rglob("*")) == cached
