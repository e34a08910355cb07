"""The third round of holes (issue 27): rows and keys that passed unchecked, template prose
that hung or crashed the gate, writes where none belong, a site that was not MkDocs' own.

Every case drives ``dla_docs.cli.main`` in a throw-away copy of the project (its measurement
cache warm, so nothing is measured), the way a user runs it, and asserts what a user wants:
wrong data is drift (exit 1) naming the row or key, bad input is one line and exit 2 with
nothing changed, nothing hangs, no traceback. Oracles are independent of the code under test:
timm's test-set names as its results files spell them, rounding done here, hashes of the
bytes on disk, a plain ``mkdocs build``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import PROJECT, copy_project
from verify_helpers import run, tree_hashes, verify_json

pytestmark = pytest.mark.timeout(300, func_only=True)
SLOW = pytest.mark.slow

TEMPLATE = "templates/models/dla.md"
RESULTS = "data/timm_results_dla.csv"
BENCHMARKS = "data/timm_benchmark_dla.csv"


def some_slow(cases: list, fast: int = 1) -> list:
    """``cases`` with all but the first ``fast`` marked slow."""
    return [c if i < fast else pytest.param(*(c if isinstance(c, tuple) else (c,)), marks=SLOW)
            for i, c in enumerate(cases)]


@pytest.fixture
def project(tmp_path, measurements) -> Path:
    return copy_project(tmp_path / "project", measurements)


def edit(root: Path, name: str, old: str, new: str, count: int = 1) -> None:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def entry_edit(root: Path, variant: str, old: str, new: str) -> None:
    path = root / TEMPLATE
    text = path.read_text(encoding="utf-8")
    start = text.index(f"- Name: {variant}\n")
    end = text.index("\n- Name: ", start + 1) + 1
    entry = text[start:end]
    assert entry.count(old) == 1, old
    path.write_text(text[:start] + entry.replace(old, new) + text[end:], encoding="utf-8")


def rows(root: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((root / name).read_text(encoding="utf-8"))))


def _files(root: Path) -> dict[str, str]:
    return {k: v for k, v in tree_hashes(root).items() if k != ".dla-docs.lock"}  # build's lock: empty, kept


def bad_input(root: Path, capsys, *command: str, one: bool = True) -> str:
    """Run ``command``: exit 2, one ``dla-docs: error:`` line (the first of several unless
    ``one``), nothing changed; the line."""
    before = _files(root)
    code, out, err = run(["--project", root, *command], capsys)
    assert code == 2, (code, out, err)
    lines = [line for line in err.splitlines() if line.startswith("dla-docs: error:")]
    assert len(lines) == 1 if one else lines, err
    assert _files(root) == before
    return lines[0]


# -- case 1: a results row for a test set timm never evaluated ---------------------------------

@pytest.mark.parametrize("dataset", some_slow(["IMAGENET", "ImageNet", "imagenet-b", "imagenet_real", "Sketch",
                                               "imagenet-c", "im\u0430genet"]))
def test_a_results_row_for_an_unknown_test_set_is_bad_input(project, capsys, dataset):
    with (project / RESULTS).open("a", encoding="utf-8") as f:
        f.write(f"{dataset},dla34.in1k,224,99.000,99.900,15.74,0.875,bilinear,results/results-imagenet.csv\n")
    line_no = len((project / RESULTS).read_text().splitlines())
    line = bad_input(project, capsys, "verify")
    assert f"{RESULTS}:{line_no}:1: " in line and "unknown test set" in line, line
    for known in ("imagenet", "imagenet-real", "imagenetv2-matched-frequency", "imagenet-r", "imagenet-a", "sketch"):
        assert known in line


# -- case 2 and its kin: duplicate rows, in both sources -----------------------------------------

@pytest.mark.parametrize("variant, model", some_slow([("dla169", "dla169"), ("dla34", "dla34"),
                                                     ("dla60x", "dla60x.other_tag")]))
def test_a_duplicate_benchmark_row_is_bad_input(project, capsys, variant, model):
    text = (project / BENCHMARKS).read_text(encoding="utf-8").splitlines(keepends=True)
    original = next(line for line in text if line.startswith(f"{variant},") and "5090" in line)
    fields = original.split(",")
    fields[0], fields[2] = model, "20000"
    text.insert(1, ",".join(fields))
    (project / BENCHMARKS).write_text("".join(text), encoding="utf-8")
    line = bad_input(project, capsys, "verify")
    later = text.index(original) + 1
    assert f"{BENCHMARKS}:{later}:1: " in line and "given twice (also line 2)" in line, line


@SLOW
def test_a_duplicate_results_row_under_another_tag_is_bad_input(project, capsys):
    text = (project / RESULTS).read_text(encoding="utf-8")
    original = next(line for line in text.splitlines() if line.startswith("imagenet,dla34.in1k,"))
    (project / RESULTS).write_text(text + original.replace("dla34.in1k", "dla34.other") + "\n", encoding="utf-8")
    line = bad_input(project, capsys, "verify")
    assert "given twice" in line


@pytest.mark.parametrize("source, header", some_slow([
    (RESULTS, "dataset,model,img_size,top1,top5,param_count_m,crop_pct,interpolation,source,top1"),
    (BENCHMARKS, "model,img_size,samples_per_sec,step_time_ms,batch_size,param_count_m,gmacs,macts_m,source,model"),
    (RESULTS, "dataset,model,img_size,top1, top1,param_count_m,crop_pct,interpolation,source"),
    (RESULTS, "dataset,model,img_size,top1,top5,param_count_m,crop_pct,interpolation,source,TOP1"),
]))
def test_a_column_named_twice_is_bad_input(project, capsys, source, header):
    """Case 14: a second ``top1`` column once won silently."""
    lines = (project / source).read_text(encoding="utf-8").splitlines()
    extra = header.count(",") - lines[0].count(",")
    body = [line + "," + line.split(",")[3] * extra if extra else line for line in lines[1:]]
    (project / source).write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    line = bad_input(project, capsys, "verify")
    assert f"{source}:1:" in line and "given twice" in line and "header" in line, line


# -- case 3: a figure too coarse to tell two variants apart cannot vouch for a row --------------

def _holds(written: str, exact: Decimal) -> bool:
    """``written`` is ``exact`` correctly rounded to the decimals written (the rule, computed here)."""
    unit = Decimal(1).scaleb(Decimal(written).as_tuple().exponent)
    return 2 * abs(exact - Decimal(written)) <= unit


def test_another_variants_row_at_a_coarse_precision_is_drift(project, capsys, measurements):
    by_key = {(r["dataset"], r["model"]): r for r in rows(project, RESULTS)}
    donor, target = by_key["imagenet", "dla46_c.in1k"], by_key["imagenet", "dla60x_c.in1k"]
    # the oracle: 1.3 (million parameters) is both variants' count at one decimal
    assert _holds("1.3", Decimal(measurements["dla46_c"].parameters) / 10**6)
    assert _holds("1.3", Decimal(measurements["dla60x_c"].parameters) / 10**6)
    old = ",".join(target.values())
    new = ",".join({**donor, "model": "dla60x_c.in1k", "param_count_m": "1.3"}.values())
    edit(project, RESULTS, old, new)
    for metric in ("top1", "top5"):
        title = "Top 1 Accuracy" if metric == "top1" else "Top 5 Accuracy"
        entry_edit(project, "dla60x_c", f"{title}: {Decimal(target[metric]).quantize(Decimal('0.01'))}%",
                   f"{title}: {Decimal(donor[metric]).quantize(Decimal('0.01'))}%")
    code, report, _ = verify_json(project, capsys)
    assert code == 1
    (finding,) = [f for f in report["findings"] if f["field"] == "param_count_m"]
    assert finding["variant"] == "dla60x_c" and "too few digits" in finding["message"]
    assert "dla46_c" in finding["message"]


@SLOW
def test_a_benchmark_row_whose_figures_all_fit_two_variants_is_drift(project, capsys, measurements):
    """dla46x_c's row written with whole numbers fits dla60x_c as well (computed here)."""
    m = measurements["dla46x_c"]
    figures = {"param_count_m": (m.parameters, 10**6), "gmacs": (m.macs, 10**9), "macts_m": (m.activations, 10**6)}
    written = {k: str(round(Decimal(v) / u)) for k, (v, u) in figures.items()}
    attrs = {"param_count_m": "parameters", "gmacs": "macs", "macts_m": "activations"}
    others = [name for name, o in measurements.items() if name != "dla46x_c" and all(
        _holds(written[k], Decimal(getattr(o, attrs[k])) / u) for k, (_, u) in figures.items())]
    assert others, written  # the oracle: another variant fits every figure
    text = (project / BENCHMARKS).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(text):
        if line.startswith("dla46x_c,"):
            fields = line.split(",")
            fields[5], fields[6], fields[7] = written["param_count_m"], written["gmacs"], written["macts_m"]
            text[i] = ",".join(fields)
    (project / BENCHMARKS).write_text("\n".join(text) + "\n", encoding="utf-8")
    code, report, _ = verify_json(project, capsys)
    found = [f for f in report["findings"] if f["variant"] == "dla46x_c" and "too few digits" in f["message"]]
    assert code == 1 and len(found) == 3  # one per benchmark file


def test_the_committed_sources_vouch_for_every_row(project, capsys):
    """dla46_c's benchmark parameter count (1.3) fits dla60x_c too, but its MACs tell them apart."""
    code, report, _ = verify_json(project, capsys)
    assert not [f for f in report["findings"] if "too few digits" in f["message"]]


# -- case 17: accuracies at whole percentages ---------------------------------------------------

@pytest.mark.parametrize("written", some_slow(["75%", "75", "74.6%", "'75.0'"]))
def test_an_accuracy_with_fewer_than_two_decimals_is_drift(project, capsys, written):
    top1 = next(r for r in rows(project, RESULTS) if r["model"] == "dla34.in1k" and r["dataset"] == "imagenet")
    recorded = f"{Decimal(top1['top1']).quantize(Decimal('0.01'))}%"
    entry_edit(project, "dla34", f"Top 1 Accuracy: {recorded}", f"Top 1 Accuracy: {written}")
    code, report, _ = verify_json(project, capsys)
    (finding,) = [f for f in report["findings"] if f["field"].endswith("Top 1 Accuracy")]
    assert code == 1 and finding["variant"] == "dla34" and "at least 2" in finding["message"]


# -- case 4: numbers YAML 1.1 and 1.2 read differently ------------------------------------------

@pytest.mark.parametrize("field, value, why", some_slow([
    ("FLOPs", "03070105576", "leading zero"),
    ("FLOPs", "0o27676357410", "0o/0x/0b"),
    ("Parameters", "0xF03060", "0o/0x/0b"),
    ("Parameters", "15_740_000", "separators"),
    ("File Size", "1:0:0", "sexagesimal"),
    ("Epochs", "0120", "leading zero"),
    ("LR", "00.1", "leading zero"),
]))
@pytest.mark.parametrize("directive", some_slow([True, False]))
def test_a_number_yaml_readers_disagree_on_is_bad_input(project, capsys, field, value, why, directive):
    if directive:
        edit(project, TEMPLATE, "<!--\nModels:\n", "<!--\n%YAML 1.1\n---\nModels:\n")
    text = (project / TEMPLATE).read_text(encoding="utf-8")
    start = text.index("- Name: dla34\n")
    old = re.search(rf"(?m)^    {re.escape(field)}: .*$", text[start:]).group()
    entry_edit(project, "dla34", old, f"    {field}: {value}")
    line_no = (project / TEMPLATE).read_text(encoding="utf-8")[:start].count("\n") + 1 + \
        text[start:].split("\n").index(old)
    line = bad_input(project, capsys, "verify")
    assert f"{TEMPLATE}:{line_no}:" in line and field in line and why in line, line


# -- case 5: look-alike keys ------------------------------------------------------------------

LOOK_ALIKES = [  # (the key as written, the key it imitates); Greek and Cyrillic letters
    ("\u0399D", "ID"),                                   # Greek capital iota
    ("\u0421rop Pct", "Crop Pct"),                       # Cyrillic Es
    ("Im\u0430ge Size", "Image Size"),                   # Cyrillic a
    ("\u0406nterpolation", "Interpolation"),             # Cyrillic I (Ukrainian)
    ("\u0420\u0430rameters", "Parameters"),              # Cyrillic Er, a
    ("FL\u039fPs", "FLOPs"),                             # Greek capital omicron
    ("File\u00a0Siz\u0435", "File Size"),                # no-break space, Cyrillic e
    ("\uff29\uff24", "ID"),                              # full-width I and D
]


REQUIRED = ("FLOPs", "File Size")  # a look-alike leaves a required field missing: bad input, with "did you mean"


@pytest.mark.parametrize("key, meant", some_slow(LOOK_ALIKES))
def test_a_look_alike_of_a_checked_key_is_drift_with_did_you_mean(project, capsys, key, meant):
    text = (project / TEMPLATE).read_text(encoding="utf-8")
    start = text.index("- Name: dla34\n")
    old = re.search(rf"(?m)^    {re.escape(meant)}: .*$", text[start:])
    if old is not None:
        entry_edit(project, "dla34", old.group(), f"    {key}: '1'")
    else:  # a field dla34 does not record: added
        entry_edit(project, "dla34", "    LR: 0.1\n", f"    LR: 0.1\n    {key}: '1'\n")
    if meant in REQUIRED:
        line = bad_input(project, capsys, "verify")
        assert f"did you mean {meant!r}" in line and "look-alike" in line, line
        return
    code, report, _ = verify_json(project, capsys)
    assert code == 1
    (finding,) = [f for f in report["findings"] if f["variant"] == "dla34" and key in f["field"]]
    assert f"did you mean {meant!r}" in finding["message"], finding
    assert key not in {u["field"] for u in report.get("unchecked", [])}


@pytest.mark.parametrize("key, meant", some_slow([("Top 1 \u0410ccuracy", "Top 1 Accuracy"),
                                                  ("T\u043ep 5 Accuracy", "Top 5 Accuracy")]))
def test_a_look_alike_metric_is_drift_with_did_you_mean(project, capsys, key, meant):
    text = (project / TEMPLATE).read_text(encoding="utf-8")
    start = text.index("- Name: dla34\n")
    old = re.search(rf"(?m)^ +{re.escape(meant)}: .*$", text[start:]).group()
    entry_edit(project, "dla34", old, old.replace(meant, key))
    code, report, _ = verify_json(project, capsys)
    assert code == 1
    assert any(f"did you mean {meant!r}" in f["message"] for f in report["findings"] if f["variant"] == "dla34")


@pytest.mark.parametrize("old, new, meant", some_slow([
    ("- Name: dla34\n", "- \u039dame: dla34\n", "Name"),               # Greek capital nu
    ("  Metadata:\n    FLOPs: 3070105576", "  M\u0435tadata:\n    FLOPs: 3070105576", "Metadata"),
]))
def test_a_look_alike_structural_key_is_bad_input_with_did_you_mean(project, capsys, old, new, meant):
    edit(project, TEMPLATE, old, new)
    before = _files(project)
    code, out, err = run(["--project", project, "verify"], capsys)
    assert code == 2 and _files(project) == before, (code, out, err)
    (line,) = [line for line in err.splitlines() if f"did you mean {meant!r}" in line]
    assert TEMPLATE in line and "look-alike" in line, line


# -- cases 7 and 8: template prose that never ends, or raises -----------------------------------

PROSE_ERRORS = [
    ("{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}", "limit of 1 s"),
    ("{{ 1/0 }}", "ZeroDivisionError"),
    ('{{ "a"+1 }}', "TypeError"),
    ('{{ "%s" % (("x",)*10) }}', "TypeError"),
    ('{{ "abc"|truncate(-5) }}', "got -5"),
    ("{{ range(1,2,0)|list }}", "must not be zero"),
    ('{% set ns = namespace(s="x") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}',
     "past the limit of"),
    ('{% set ns = namespace(s="x") %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}',
     "past the limit of"),
    ('{{ "x"|center(10**10) }}', "past the limit of"),
    ('{{ "x".ljust(10**10) }}', "past the limit of"),
    ('{{ "%0999999999d" % 1 }}', "past the limit of"),
    ('{% for c in "ab"*500000 %}{% for d in "ab"*500000 %}{% endfor %}{% endfor %}', "limit of 1 s"),
    ('{{ [1, "a"]|max }}', "TypeError"),
    ('{{ "abc"|wordwrap(0) }}', "ValueError"),
]


@pytest.mark.parametrize("prose, says", some_slow(PROSE_ERRORS, fast=2))
def test_template_prose_that_hangs_or_raises_is_one_line_naming_the_template(project, capsys, monkeypatch,
                                                                               prose, says):
    monkeypatch.setenv("DLA_DOCS_TEMPLATE_SECONDS", "1" if "limit of 1 s" in says else "60")
    edit(project, TEMPLATE, "<!--\nModels:\n", f"{prose}\n\n<!--\nModels:\n")
    line = bad_input(project, capsys, "build", "--no-site")
    assert TEMPLATE in line and says in line, line
    assert not (project / "docs").exists()


# -- case 10: the server killed while it writes an answer ---------------------------------------

def test_a_server_killed_mid_answer_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    from dla_docs.measure import runner

    root = copy_project(tmp_path / "project")  # no store: dla34 must be measured
    half = ("import os, sys, signal; sys.stdout.buffer.write(b'{\"kind\": \"done\", \"na'); "
            "sys.stdout.flush(); os.kill(os.getpid(), signal.SIGKILL)")
    monkeypatch.setattr(runner, "SERVER_BOOT", half)  # the documented fault seam
    code, out, err = run(["--project", root, "measure", "dla34"], capsys)
    assert code == 2 and "killed by SIGKILL in the middle of an answer" in err, err


# -- case 11: export cff must never write over a file the project manages -----------------------

MANAGED = ["data/timm_results_dla.csv", "mkdocs.yml", "README.md", "pyproject.toml", "templates/models/dla.md",
           "dla_docs/cli.py", "templates/CITATION.cff", "docs/CITATION.cff", ".dla-docs-cache/CITATION.cff",
           "site/CITATION.cff", ".git/CITATION.cff", "data/timm_benchmark_dla.csv"]


@pytest.mark.parametrize("target", some_slow(MANAGED))
def test_the_citation_setting_is_refused_on_a_managed_file(project, capsys, target):
    (project / target).parent.mkdir(parents=True, exist_ok=True)
    if not (project / target).exists():
        (project / target).write_text("kept\n", encoding="utf-8")
    edit(project, "pyproject.toml", 'citation = "CITATION.cff"', f'citation = "{target}"')
    before = _files(project)
    for command in (("export", "cff"), ("verify",)):
        code, out, err = run(["--project", project, *command], capsys)
        assert code == 2 and ("tool.dla-docs.citation" in err or "overlaps the citation" in err), (command, err)
        assert "invalid TOML" not in err
        assert len(err.strip().splitlines()) == 1, err
    assert _files(project) == before


@SLOW
def test_a_citation_cff_linked_to_a_managed_file_is_not_written_through(project, capsys):
    (project / "CITATION.cff").unlink()
    (project / "CITATION.cff").symlink_to("pyproject.toml")
    before = (project / "pyproject.toml").read_bytes()
    code, out, err = run(["--project", project, "export", "cff"], capsys)
    assert code == 2 and (project / "pyproject.toml").read_bytes() == before, (code, out, err)


# -- case 12: a store folder linked outside the project -----------------------------------------

@pytest.mark.parametrize("folder", some_slow(["svg", "jinja", "jinja-includes"]))
def test_a_store_folder_linked_outside_receives_nothing(project, tmp_path, capsys, folder):
    import shutil

    outside = tmp_path / "outside"
    outside.mkdir()
    store = project / ".dla-docs-cache"
    shutil.rmtree(store / folder, ignore_errors=True)
    (store / folder).symlink_to(outside)
    code, out, err = run(["--project", project, "build", "--no-site"], capsys)
    assert code == 0, out + err
    assert list(outside.iterdir()) == []
    assert (store / folder).is_symlink()


@SLOW
def test_a_measurement_folder_linked_outside_receives_nothing(tmp_path, capsys, measurements):
    root = copy_project(tmp_path / "project", measurements)
    store = root / ".dla-docs-cache"
    outside = tmp_path / "outside"
    outside.mkdir()
    from dla_docs.measure.stored import MeasurementShelf

    name = MeasurementShelf.entry_name("dla34", 224)
    import shutil

    shutil.rmtree(store / name[:2])
    (store / name[:2]).symlink_to(outside)
    code, out, err = run(["--project", root, "measure", "dla34"], capsys)
    assert code == 0, out + err
    assert list(outside.iterdir()) == []


# -- case 6: the store records the code as loaded, not as found later ---------------------------

def test_the_code_manifest_is_the_code_as_imported_not_as_on_disk_later(tmp_path):
    """A copy of the package; the measuring server's boot (the recorder first) imports a module,
    which is then edited on disk: the manifest must keep the digest of the bytes imported."""
    import shutil

    from dla_docs.measure import runner

    copy = tmp_path / "src"
    shutil.copytree(PROJECT / "dla_docs", copy / "dla_docs", ignore=shutil.ignore_patterns("__pycache__"))
    module = copy / "dla_docs" / "zoo" / "__init__.py"
    imported = hashlib.sha256(module.read_bytes()).hexdigest()
    script = (
        "import sys, json\n"
        "import importlib.util as u\n"
        f"s = u.spec_from_file_location({runner.RECORDER_NAME!r}, sys.argv[1])\n"
        "m = sys.modules[s.name] = u.module_from_spec(s); s.loader.exec_module(m); m.record()\n"
        "import dla_docs.zoo\n"
        "open(sys.argv[2], 'a').write('\\nimport dla_docs.zoo.edited_later  # added while starting\\n')\n"
        "from dla_docs.store import loaded_code\n"
        "print(json.dumps(loaded_code()))\n")
    recorder = copy / "dla_docs" / "store" / "imports.py"
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(copy)!r}); " + script,
                           str(recorder), str(module)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    import json

    manifest = json.loads(done.stdout)
    assert manifest["zoo/__init__.py"] == imported
    assert manifest["zoo/__init__.py"] != hashlib.sha256(module.read_bytes()).hexdigest()


# -- case 13: the site is a plain mkdocs build's, whatever the prose ----------------------------

HOSTILE_PROSE = (
    'Some text <span data-search-exclude>x</span> then an inline <svg width="1" height="1"><text>svg '
    "words</text></svg> and *b* emphasised.\n\n"
    "<!-- data-search-exclude -->\n```html\n<svg><text>in code</text></svg>\n```\n\n"
    '<div data-search-exclude markdown>\n<svg width="2" height="2"><text>kept</text></svg> *c*\n</div>\n\n'
)


@SLOW
def test_the_site_is_a_plain_mkdocs_build_whatever_the_prose(project, tmp_path, capsys, monkeypatch):
    from conftest import read_tree

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the build date both builds use
    edit(project, TEMPLATE, "<!--\nModels:\n", f"{HOSTILE_PROSE}<!--\nModels:\n")
    code, out, err = run(["--project", project, "build"], capsys)
    assert code == 0, out + err
    plain = tmp_path / "plain"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(plain)],
                          cwd=project, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    ours, theirs = read_tree(project / "site"), read_tree(plain)
    assert ours.keys() == theirs.keys()
    assert [name for name in ours if ours[name] != theirs[name]] == []
    page = ours["index.html"].decode()
    assert "<em>b</em>" in page and "dla-docs-svg" not in page


def test_build_adds_no_plugin_of_its_own_to_mkdocs(project, capsys, monkeypatch):
    """The fast representative of case 13: the configuration MkDocs builds with is mkdocs.yml's,
    plugin for plugin (a plugin of dla-docs' own once set SVGs aside and changed pages)."""
    import mkdocs.commands.build as mkdocs_build

    seen = {}

    def build(config, **_):
        seen["plugins"] = list(config.plugins)

    monkeypatch.setattr(mkdocs_build, "build", build)
    edit(project, TEMPLATE, "<!--\nModels:\n", f"{HOSTILE_PROSE}<!--\nModels:\n")
    run(["--project", project, "build"], capsys)
    assert "material/search" in seen["plugins"]  # mkdocs.yml's
    assert [name for name in seen["plugins"] if "dla" in name] == []


# -- case 15: licence forms CITATION.cff cannot carry ------------------------------------------

@pytest.mark.parametrize("licence", some_slow(["42", '{ file = "LICENSE" }', '""', "{ text = 7 }", "[]"]))
def test_a_licence_the_cff_cannot_carry_is_said(project, capsys, licence):
    edit(project, "pyproject.toml", 'license = { text = "Apache-2.0" }', f"license = {licence}")
    line = bad_input(project, capsys, "export", "cff")
    assert "pyproject.toml:" in line and "project.license" in line, line


# -- case 16: python -m dla_docs in a folder holding a psutil.py or click.py --------------------

@pytest.mark.parametrize("name", some_slow(["psutil", "click", "dataclasses", "tomllib", "jinja2"]))
def test_python_m_never_imports_a_module_from_the_working_folder(tmp_path, name):
    marker = tmp_path / "imported"
    (tmp_path / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(99)\n")
    done = subprocess.run([sys.executable, "-m", "dla_docs", "--help"], cwd=tmp_path, capture_output=True,
                          text=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert done.returncode == 0, done.stderr
    assert not marker.exists()


@SLOW
def test_an_edit_during_the_servers_start_up_leaves_the_entry_stale(tmp_path):
    """End to end, case 6 as reported: a copy of the package whose measuring code, once the
    server has imported it, edits ``zoo/__init__.py`` (as a maintainer would while torch
    loads); the entry ``measure`` stores must carry the digest of the bytes the server
    imported, so that the next run, reading the edited file, measures again."""
    import json
    import shutil

    src = tmp_path / "src"
    shutil.copytree(PROJECT / "dla_docs", src / "dla_docs", ignore=shutil.ignore_patterns("__pycache__"))
    zoo = src / "dla_docs" / "zoo" / "__init__.py"
    imported = hashlib.sha256(zoo.read_bytes()).hexdigest()
    with (src / "dla_docs" / "measure" / "core.py").open("a", encoding="utf-8") as f:
        f.write(f"\nif 'edited' not in open({str(zoo)!r}).read():\n"
                f"    open({str(zoo)!r}, 'a').write('\\n# edited while the server started\\n')\n")
    root = copy_project(tmp_path / "project")
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(src)!r}); "
                           "from dla_docs.cli import main; sys.exit(main(sys.argv[1:]))",
                           "--project", str(root), "measure", "dla34"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "edited" in zoo.read_text()
    entries = [p for p in (root / ".dla-docs-cache").glob("??/*.json")]
    assert len(entries) == 1
    payload = json.loads(entries[0].read_bytes().partition(b"\n")[2])
    assert payload["code"]["zoo/__init__.py"] == imported != hashlib.sha256(zoo.read_bytes()).hexdigest()
