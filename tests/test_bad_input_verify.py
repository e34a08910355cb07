"""The bad-input corpus, generated part: inputs on which ``verify`` must not say "everything holds".

Each case is generated from this project's own template and from real state dicts: figures
off by more than the Parameters rule, checkpoints in the wrong dtype or with keys that are
not strings, checkpoint folders that hold no usable file, names that would spoof a log,
blocks written in unusual but valid ways, no project at all. Every case runs ``dla-docs``
through ``dla_docs.cli.main`` in a throw-away copy of the project (its cache warm) under a
timeout, and must give its exit code and message, no traceback, and no hang.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import torch

from conftest import copy_project
from verify_helpers import run, verify_json
from dla_docs import create_model, list_models

pytestmark = pytest.mark.timeout(180, func_only=True)  # per case, fixtures excluded

TEMPLATE = "templates/models/dla.md"
DOCS_LOCK = ".dla-docs.lock"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, measurements) -> Path:
    return copy_project(tmp_path_factory.mktemp("bad-verify") / "pristine", measurements)


@pytest.fixture
def project(pristine, tmp_path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(pristine, root, symlinks=True)
    return root


@pytest.fixture(scope="module")
def dla46_c_state() -> dict[str, torch.Tensor]:
    return create_model("dla46_c").state_dict()


def tree(root: Path) -> dict[str, bytes | str]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() and not p.is_symlink() else "other")
            for p in sorted(root.rglob("*")) if DOCS_LOCK not in p.name}


# -- 1. Parameters: trailing zeros are not precision -----------------------------------------

def significant(value: int, digits: int) -> int:
    """``value`` rounded half up to ``digits`` significant digits (the oracle: decimal arithmetic)."""
    exponent = len(str(value)) - digits
    return int(round(value / 10 ** exponent) * 10 ** exponent) if exponent > 0 else value


def with_parameters(text: str, figures: dict[str, int]) -> str:
    for name, value in figures.items():
        text, count = re.subn(rf"(- Name: {name}\n  Metadata:\n    FLOPs: \d+\n    Parameters: )\d+",
                              rf"\g<1>{value}", text)
        assert count == 1, name
    return text


WRONG_FIGURES = [("dla169", 100000000), ("dla34", 20000000), ("dla46_c", 1000000)]


@pytest.mark.parametrize("variant, recorded", WRONG_FIGURES, ids=[f"{v}-{r}" for v, r in WRONG_FIGURES])
def test_a_round_figure_off_by_tens_of_percent_is_drift(project, capsys, measurements, variant, recorded):
    template = project / TEMPLATE
    template.write_text(with_parameters(template.read_text(), {variant: recorded}))
    code, report, _ = verify_json(project, capsys)
    assert code == 1 and not report["ok"]
    (finding,) = report["findings"]
    measured = measurements[variant].parameters
    assert (finding["variant"], finding["field"], finding["measured"]) == (variant, "Metadata.Parameters", measured)
    assert abs(recorded - measured) / measured > 0.2 and "3 or more significant digits" in finding["message"]


@pytest.mark.parametrize("digits", [1, 2])
def test_every_variant_rounded_to_fewer_than_3_digits_is_drift(project, capsys, measurements, digits):
    """Generated: every variant's count rounded to 1 (2) significant digits, where that is not also
    its 3-digit rounding; each must be a finding, and one verify run checks them all."""
    figures = {n: significant(measurements[n].parameters, digits) for n in list_models()}
    wrong = {n: v for n, v in figures.items() if v != significant(measurements[n].parameters, 3)}
    assert len(wrong) >= 8
    template = project / TEMPLATE
    template.write_text(with_parameters(template.read_text(), wrong))
    code, report, _ = verify_json(project, capsys)
    assert code == 1
    assert {f["variant"] for f in report["findings"] if f["field"] == "Metadata.Parameters"} == set(wrong)


def test_the_card_shows_the_rule_it_applied(generated, measurements):
    """The committed rendering states the precision each recorded figure held at."""
    from dla_docs.checks.figures import parameters_rule

    for name in ("dla34", "dla169"):
        page = generated.files[f"models/{name}.md"].decode()
        row = next(line for line in page.splitlines() if line.startswith("| Parameters |"))
        recorded = int(row.split("|")[2].strip().replace(",", ""))
        measured = measurements[name].parameters
        held = [k for k in range(3, len(str(measured))) if significant(measured, k) == recorded]
        assert f"rounded to {max(held)} significant digits" in row if held else "exact" in row, row
        assert parameters_rule(recorded, measured) in row


# -- 2. checkpoints in another dtype -----------------------------------------------------------

DTYPES = [torch.float16, torch.bfloat16, torch.float64, torch.int32, torch.bool, torch.complex64]


@pytest.mark.parametrize("dtype", DTYPES, ids=[str(d).removeprefix("torch.") for d in DTYPES])
def test_a_checkpoint_in_another_dtype_is_a_finding_and_its_size_is_not_used(project, capsys, dla46_c_state, dtype):
    (project / "ck").mkdir()
    path = project / "ck" / "dla46_c.pth"
    torch.save({k: v.to(dtype) for k, v in dla46_c_state.items()}, path)
    code, report, _ = verify_json(project, capsys, "--checkpoint-dir", project / "ck")
    assert code == 1
    (finding,) = report["findings"]
    assert (finding["kind"], finding["variant"]) == ("checkpoint", "dla46_c")
    assert str(dtype).removeprefix("torch.") in finding["message"] and "float32" in finding["message"]
    before = (project / TEMPLATE).read_bytes()
    code, report, _ = verify_json(project, capsys, "--checkpoint-dir", project / "ck", "--fix")
    assert code == 1 and report["fixed"] == [] and (project / TEMPLATE).read_bytes() == before
    assert str(path.stat().st_size) not in before.decode()


# -- 5. keys that are not strings, tensors without data ----------------------------------------

KEYS = [3, b"fc.weight", ("fc", "weight"), None, 1.5]


@pytest.mark.parametrize("key", KEYS, ids=[type(k).__name__ for k in KEYS])
def test_a_key_that_is_not_a_string_is_one_line_exit_2(project, capsys, dla46_c_state, key):
    state = dict(dla46_c_state)
    state[key] = state.pop("fc.bias")
    (project / "ck").mkdir()
    torch.save(state, project / "ck" / "dla46_c.pth")
    before = tree(project)
    code, out, err = run(["--project", project, "verify", "--checkpoint-dir", project / "ck"], capsys)
    (line,) = err.splitlines()
    assert code == 2 and line.startswith("dla-docs: error: ck/dla46_c.pth: checkpoint: state-dict keys must be strings")
    assert repr(key)[:20] in line and type(key).__name__ in line
    assert tree(project) == before


def test_a_checkpoint_of_meta_tensors_says_it_holds_no_weights(project, capsys):
    with torch.device("meta"):
        state = create_model("dla34").state_dict()
    (project / "ck").mkdir()
    torch.save(state, project / "ck" / "dla34.pth")
    code, out, err = run(["--project", project, "verify", "--checkpoint-dir", project / "ck"], capsys)
    (line,) = err.splitlines()
    assert code == 2 and "holds no weights" in line and "'meta' device" in line
    assert "it is a dla34 checkpoint" not in line


# -- 3. checkpoint folders that hold no usable checkpoint ---------------------------------------

def _empty(folder: Path) -> str:
    return "the folder is empty"


def _bin(folder: Path) -> str:
    (folder / "dla34.bin").write_bytes(b"x")
    return "dla34.bin: suffix '.bin' is not one of .pth, .pt, .safetensors"


def _upper(folder: Path) -> str:
    (folder / "DLA34.pth").write_bytes(b"x")
    return "DLA34.pth: does not start with a variant name; did you mean 'dla34'?"


def _upper_suffix(folder: Path) -> str:
    (folder / "dla34.PTH").write_bytes(b"x")
    return "dla34.PTH: suffix '.PTH' is not lowercase"


def _folder(folder: Path) -> str:
    (folder / "dla34.pth").mkdir()
    return "dla34.pth: a folder"


def _loop(folder: Path) -> str:
    os.symlink("dla34-b.pth", folder / "dla34-a.pth")
    os.symlink("dla34-a.pth", folder / "dla34-b.pth")
    return "dla34-a.pth: a symbolic link that cannot be followed (Too many levels of symbolic links)"


def _dangling(folder: Path) -> str:
    os.symlink("nowhere.pth", folder / "dla34.pth")
    return "dla34.pth: a symbolic link that cannot be followed (No such file or directory)"


def _fifo(folder: Path) -> str:
    os.mkfifo(folder / "dla34.pth")  # opening it would block for ever
    return "dla34.pth: a FIFO (named pipe)"


def _no_variant(folder: Path) -> str:
    (folder / "weights.pth").write_bytes(b"x")
    return "weights.pth: does not start with a variant name"


UNUSABLE = [_empty, _bin, _upper, _upper_suffix, _folder, _loop, _dangling, _fifo, _no_variant]


@pytest.mark.parametrize("make", UNUSABLE, ids=[f.__name__.strip("_") for f in UNUSABLE])
def test_a_folder_without_a_usable_checkpoint_is_an_error_saying_why(project, capsys, make):
    folder = project / "ck"
    folder.mkdir()
    says = make(folder)
    code, out, err = run(["--project", project, "verify", "--checkpoint-dir", folder], capsys)
    (line,) = err.splitlines()
    assert code == 2 and "--checkpoint-dir: no usable checkpoint" in line and says in line, line


def test_a_mixed_folder_notes_every_skipped_file_and_every_variant_without_one(project, capsys, dla46_c_state):
    folder = project / "ck"
    folder.mkdir()
    torch.save(dla46_c_state, folder / "dla46_c.pt")  # .pt is read like .pth
    skipped = [_upper(folder), _fifo(folder), _bin(folder)]
    code, report, _ = verify_json(project, capsys, "--checkpoint-dir", folder)
    assert code == 1  # the template records the published file's size, not this one's
    assert [(f["variant"], f["field"]) for f in report["findings"]] == [("dla46_c", "Metadata.File Size")]
    assert report["findings"][0]["measured"] == (folder / "dla46_c.pt").stat().st_size
    notes = "\n".join(report["notes"])
    for says in skipped:
        name, why = says.split(": ", 1)
        assert f"skipped ck/{name}: {why}" in notes
    others = [n for n in list_models() if n != "dla46_c"]
    assert f"no checkpoint in ck/ for {', '.join(others)}" in notes


# -- 7. names that would spoof a log ----------------------------------------------------------

SPOOF = {"bidi": "dla34\u202e)ffo( sdloh gnihtyreve", "zero_width": "dla\u200b34", "isolate": "dla34\u2066x\u2069",
         "huge": "dla34" + "x" * 900_000}


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
@pytest.mark.parametrize("kind", list(SPOOF))
def test_a_hostile_name_prints_escaped_and_cut_in_every_format(project, capsys, fmt, kind):
    name = SPOOF[kind]
    template = project / TEMPLATE
    template.write_text(template.read_text().replace("- Name: dla34\n", f"- Name: '{name}'\n", 1))
    code, out, err = run(["--project", project, "verify", "--format", fmt], capsys)
    assert code == 1
    printed = out + err
    for char in "\u202e\u200b\u2066\u2069":
        assert char not in printed
    assert len(printed) < 30_000  # the name is cut, not printed whole
    if kind != "huge":
        assert "\\u" in printed  # shown, escaped
    else:
        assert "characters cut]" in printed


# -- 8, 9. blocks written in unusual but valid ways read the same ----------------------------

def _opening_line(text: str) -> str:
    start = text.index("<!--\nModels:")
    return text[:start] + "<!-- Models:" + text[start + len("<!--\nModels:"):]


def _quoted_key(text: str) -> str:
    return text.replace("\nModels:\n", '\n"Models":\n', 1)


def _json_flow(text: str) -> str:
    from ruamel.yaml import YAML

    start = text.index("<!--\nModels:") + 4
    end = text.index("-->", start)
    data = YAML(typ="safe").load(text[start:end])
    return text[:start] + "\n" + json.dumps(data, indent=1) + "\n" + text[end:]


def _cr_only(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r")


def _inline_code(text: str) -> str:
    return "The metadata lives in an HTML comment (`<!-- Models: ... -->`) below.\n\n" + text


ODD_BLOCKS = [_opening_line, _quoted_key, _json_flow, _cr_only, _inline_code]


@pytest.mark.parametrize("rewrite", ODD_BLOCKS, ids=[f.__name__.strip("_") for f in ODD_BLOCKS])
def test_an_unusual_but_valid_block_reads_like_the_original(project, capsys, rewrite):
    """Oracle: the original template's report, with a drifted FLOPs figure to find in both."""
    template = project / TEMPLATE
    original = template.read_text().replace("FLOPs: 583277288", "FLOPs: 583277289", 1)
    template.write_text(original)
    expected, report, _ = verify_json(project, capsys)
    assert expected == 1
    template.write_bytes(rewrite(original).encode())
    code, odd, err = verify_json(project, capsys)
    assert code == expected, err
    keep = ("kind", "variant", "field", "recorded", "measured")
    assert [{k: f[k] for k in keep} for f in odd["findings"]] == [{k: f[k] for k in keep} for f in report["findings"]]
    if rewrite in (_cr_only, _quoted_key):  # same lines: the finding points at the same place
        assert [f["line"] for f in odd["findings"]] == [f["line"] for f in report["findings"]]


def test_fix_keeps_cr_only_line_endings(project, capsys):
    template = project / TEMPLATE
    text = _cr_only(template.read_text()).replace("FLOPs: 583277288", "FLOPs: 5", 1)
    template.write_bytes(text.encode())
    code, report, _ = verify_json(project, capsys, "--fix")
    assert code == 0 and [f["new"] for f in report["fixed"]] == [583277288]
    assert template.read_bytes() == text.replace("FLOPs: 5\r", "FLOPs: 583277288\r").encode()


# -- 6. no project: nothing is written before the project is known ----------------------------

@pytest.mark.parametrize("command", [["build", "--no-site"], ["measure", "dla34"], ["verify"]])
def test_no_project_is_named_and_nothing_is_written(tmp_path, capsys, monkeypatch, command):
    folder = tmp_path / "not-a-project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    code, out, err = run(command, capsys)
    assert code == 2 and "no dla-docs project here" in err and "cannot read the template" not in err
    assert list(folder.iterdir()) == []


def test_a_pyproject_without_the_section_is_not_a_project(tmp_path, capsys, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'other'\n")
    code, out, err = run(["--project", tmp_path, "build", "--no-site"], capsys)
    assert code == 2 and "has no [tool.dla-docs] section" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml"]


def test_project_root_of_the_file_system_is_refused_without_writing(capsys):
    code, out, err = run(["--project", "/", "measure", "dla34"], capsys)
    assert code == 2 and "not a dla-docs project: no pyproject.toml in /" in err
    assert not Path("/.dla-docs-cache").exists() and not Path("/.dla-docs.lock").exists()


def test_a_broken_pyproject_read_from_docs_is_reported_and_docs_stays_clean(project, capsys, monkeypatch):
    (project / "docs").mkdir()
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace('docs-dir = "docs"', 'docs-dir = "docs'))
    monkeypatch.chdir(project / "docs")
    code, out, err = run(["build", "--no-site"], capsys)
    assert code == 2 and "pyproject.toml" in err and "invalid TOML" in err
    assert list((project / "docs").iterdir()) == []


# -- 11. --template, duplicates, case -----------------------------------------------------------

def test_verify_of_another_template_does_not_fail_on_the_configured_pages(project, capsys):
    """The pages come from the configured template; a stale page says nothing about another one."""
    (project / "docs").mkdir()
    (project / "docs" / "index.md").write_text("stale\n")
    other = project / "templates" / "models" / "other.md"
    shutil.copy(project / TEMPLATE, other)
    code, report, _ = verify_json(project, capsys, "--template", other)
    assert code == 0 and report["findings"] == []
    assert any("pages not checked" in n for n in report["notes"])
    code, report, _ = verify_json(project, capsys)  # the configured template: the page check runs
    assert code == 1 and {f["kind"] for f in report["findings"]} >= {"stale-page"}


def test_a_variant_in_two_templates_gets_a_note(project, capsys):
    other = project / "templates" / "models" / "other.md"
    text = (project / TEMPLATE).read_text()
    other.write_text(text)
    code, report, _ = verify_json(project, capsys, "--template", project / TEMPLATE, "--template", other)
    assert code == 0
    notes = [n for n in report["notes"] if "has entries in 2 templates" in n]
    assert len(notes) == len(list_models()) and notes[0].startswith("dla60 has entries in 2 templates")


def test_a_name_in_the_wrong_case_gets_did_you_mean(project, capsys):
    template = project / TEMPLATE
    template.write_text(template.read_text().replace("- Name: dla34\n", "- Name: DLA34\n", 1))
    code, report, _ = verify_json(project, capsys)
    assert code == 1
    unknown = [f for f in report["findings"] if f["kind"] == "unknown-variant"]
    assert len(unknown) == 1 and "did you mean 'dla34'?" in unknown[0]["message"]


# -- 12. a template outside the project, named on the command line ------------------------------

def test_a_template_outside_the_project_is_read_and_fixed_in_place(project, tmp_path, capsys):
    outside = tmp_path / "elsewhere" / "dla.md"
    outside.parent.mkdir()
    outside.write_text((project / TEMPLATE).read_text().replace("FLOPs: 583277288", "FLOPs: 1", 1))
    before = tree(project)
    code, report, _ = verify_json(project, capsys, "--template", outside)
    assert code == 1 and [f["file"] for f in report["findings"]] == [str(outside)]
    code, report, _ = verify_json(project, capsys, "--template", outside, "--fix")
    assert code == 0 and "FLOPs: 583277288" in outside.read_text()
    assert tree(project) == before and sorted(p.name for p in outside.parent.iterdir()) == ["dla.md"]


# -- 10. --fix against a template edited meanwhile, killed, or in a read-only folder ----------

def _drifted(project: Path) -> tuple[Path, str]:
    template = project / TEMPLATE
    text = template.read_text().replace("FLOPs: 583277288", "FLOPs: 5", 1)
    template.write_text(text)
    return template, text


@pytest.mark.parametrize("can_exchange", [True, False], ids=["exchange", "flock-fallback"])
def test_fix_never_overwrites_an_edit_made_while_it_ran(project, capsys, monkeypatch, can_exchange):
    """The other program's edit lands just before the swap; the swap must keep it and say so."""
    from dla_docs.fs import writing

    template, text = _drifted(project)
    edited = text.replace("Epochs: 120", "Epochs: 121", 1)
    real = writing.exchange
    calls = []

    def edit_then_exchange(a, b):
        if not calls:
            template.write_text(edited)  # the concurrent edit, in place, between check and swap
        calls.append(1)
        return real(a, b) if can_exchange else False

    monkeypatch.setattr(writing, "exchange", edit_then_exchange)
    code, out, err = run(["--project", project, "verify", "--fix"], capsys)
    assert code == 2 and "templates/models/dla.md: --fix: changed on disk" in err and "fixed" not in out
    assert template.read_text() == edited
    assert sorted(p.name for p in template.parent.iterdir()) == ["dla.md"]


def test_a_temporary_file_left_by_a_killed_fix_is_removed_by_the_next(project, capsys):
    import subprocess

    template, text = _drifted(project)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    left = [template.parent / f".dla.md.{dead}.k2j4h1x0.tmp", template.parent / ".dla.md.x7qh0w2e.tmp"]
    running = template.parent / f".dla.md.{os.getppid()}.abcdefgh.tmp"  # a live writer's: kept
    for path in (*left, running):
        path.write_bytes(text[:100].encode())
    code, out, err = run(["--project", project, "verify", "--fix"], capsys)
    assert code == 0 and "fixed dla46_c Metadata.FLOPs: 5 -> 583277288" in out
    assert sorted(p.name for p in template.parent.iterdir()) == sorted(["dla.md", running.name])


def test_an_unwritable_folder_names_the_template_not_the_temporary_file(project, capsys, monkeypatch):
    import tempfile

    template, text = _drifted(project)

    def refused(*args, dir=None, prefix="", suffix="", **kwargs):
        raise PermissionError(13, "Permission denied", os.path.join(dir, f"{prefix}x{suffix}"))

    monkeypatch.setattr(tempfile, "mkstemp", refused)  # what a read-only folder does (also as root)
    code, out, err = run(["--project", project, "verify", "--fix"], capsys)
    (line,) = err.splitlines()
    assert code == 2 and line == ("dla-docs: error: templates/models/dla.md: --fix: cannot write the template: "
                                  "Permission denied; nothing was written")
    assert template.read_text() == text and ".tmp" not in line


def test_a_folder_with_checkpoints_only_for_undocumented_variants_is_an_error(project, capsys, dla46_c_state):
    folder = project / "ck"
    folder.mkdir()
    torch.save(dla46_c_state, folder / "dla46_c.pth")
    other = project / "templates" / "models" / "one.md"
    text = (project / TEMPLATE).read_text()
    start = text.index("- Name: dla34\n")
    end = text.index("- Name:", start + 5)
    other.write_text(text[:text.index("- Name:")] + text[start:end] + text[text.index("Collections:"):])
    code, out, err = run(["--project", project, "verify", "--template", other, "--checkpoint-dir", folder], capsys)
    (line,) = err.splitlines()
    assert code == 2 and "no checkpoint for any variant the templates document (dla34)" in line
    assert "dla46_c.pth" in line
