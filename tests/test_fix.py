"""`dla-docs verify --fix`: exactly the drifted values change, every other byte stays."""

from __future__ import annotations

import difflib
import os
import stat

import pytest
from verify_helpers import (
    committed_text,
    fixture_text,
    line_of,
    make_project,
    run_cli,
    settings_for,
    tree_hashes,
    verify_report,
)

from dla_docs.checks.fix import fix_template
from dla_docs.errors import InputError
from dla_docs.fs import write_atomic
from dla_docs.metadata import read_template


def changed_lines(old: bytes, new: bytes) -> list[tuple[str, str]]:
    """(old line, new line) pairs that differ; lines keep their endings."""
    a, b = old.decode().splitlines(keepends=True), new.decode().splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    pairs = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            pairs.append(("".join(a[i1:i2]), "".join(b[j1:j2])))
    return pairs


def fix_once(tmp_path, measurements, text, add_missing=False, name="t.md"):
    """Verify and fix a one-template project through the API; returns (path, result)."""
    root = make_project(tmp_path, {name: text})
    template = read_template(root / name, root)
    report = verify_report(settings_for(root))
    return root / name, fix_template(template, report.findings, measurements, add_missing)


def test_fix_changes_exactly_one_line_and_a_second_fix_nothing(tmp_path, measurements, seed_flops, capsys):
    wrong = seed_flops["dla60x_c"] + 1
    text = committed_text().replace(f"FLOPs: {seed_flops['dla60x_c']}", f"FLOPs: {wrong}")
    root = make_project(tmp_path / "p", {"dla.md": text})
    path = root / "dla.md"
    before = path.read_bytes()
    code, out, err = run_cli(["--project", str(root), "verify", "--fix"], capsys)
    assert code == 0, out + err
    after = path.read_bytes()
    assert changed_lines(before, after) == [(f"    FLOPs: {wrong}\n", f"    FLOPs: {seed_flops['dla60x_c']}\n")]
    assert f"dla.md:{line_of(text, str(wrong))}: fixed dla60x_c Metadata.FLOPs: {wrong} -> {seed_flops['dla60x_c']}" in out
    stamp = os.stat(path)
    code, out, _ = run_cli(["--project", str(root), "verify", "--fix"], capsys)
    assert code == 0 and "fixed" not in out
    assert path.read_bytes() == after
    assert (os.stat(path).st_ino, os.stat(path).st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)  # not rewritten


def test_fix_keeps_crlf_quoting_comments_and_prose(tmp_path, measurements, seed_flops):
    measured = measurements["dla46_c"]
    text = (fixture_text("two_models.md")
            .replace(f"FLOPs: {seed_flops['dla46_c']}", f"FLOPs: '{seed_flops['dla46_c'] + 5}'")
            .replace("File Size: 5307963", "File Size: 9999999")
            .replace("\n", "\r\n"))
    path, result = fix_once(tmp_path, measurements, text)
    new = path.read_bytes()
    assert b"\n" not in new.replace(b"\r\n", b"")  # every line ending is still CRLF
    assert changed_lines(text.encode(), new) == [
        (f"    FLOPs: '{seed_flops['dla46_c'] + 5}'  # as published\r\n"
         "    File Size: 9999999\r\n",
         f"    FLOPs: '{measured.flops_model_index}'  # as published\r\n"
         f"    File Size: {measured.checkpoint_bytes}\r\n")]
    assert [e.field for e in result.edits] == ["Metadata.FLOPs", "Metadata.File Size"]
    again = read_template(path)
    assert again.before.encode() == text.encode()[:len(again.before.encode())]
    assert again.after == text[text.index("-->") + 3:]


def test_add_missing_parameters_after_flops(tmp_path, measurements):
    text = fixture_text("two_models.md")
    path, result = fix_once(tmp_path / "a", measurements, text, add_missing=True)
    new = path.read_text()
    added = [new_line for old_line, new_line in changed_lines(text.encode(), new.encode())]
    assert added == [f"    Parameters: {measurements[n].parameters}\n" for n in ("dla46_c", "dla46x_c")]
    lines = new.split("\n")
    for edit in result.edits:  # reported lines are lines of the fixed file
        assert lines[edit.line - 1] == f"    Parameters: {edit.new_value}"
        assert lines[edit.line - 2].lstrip().startswith("FLOPs:")
    index = read_template(path).index
    assert all(e.metadata["Parameters"].value == measurements[e.name].parameters for e in index.models)
    template = read_template(path)
    report = verify_report(settings_for(path.parent))
    assert report.ok
    assert not fix_template(template, report.findings, measurements, add_missing=True).changed


def test_add_missing_in_a_flow_mapping(tmp_path, measurements):
    text = fixture_text("wild.md")
    path, _ = fix_once(tmp_path, measurements, text, add_missing=True)
    (old_line, new_line), (_, block_line) = changed_lines(text.encode(), path.read_bytes())
    assert new_line == old_line.replace("flops: 583277288,",
                                        f"flops: 583277288, Parameters: {measurements['dla46_c'].parameters},")
    assert block_line == f"    Parameters: {measurements['dla46x_c'].parameters}\n"
    assert read_template(path).index.models[0].metadata["Parameters"].value == measurements["dla46_c"].parameters


def test_unfixable_findings_are_left_and_reported(tmp_path, measurements, capsys):
    text = committed_text().replace("Image Size: '224'", "Image Size: '256'", 1)
    root = make_project(tmp_path, {"dla.md": text})
    before = tree_hashes(root)
    code, out, _ = run_cli(["--project", str(root), "verify", "--fix"], capsys)
    assert code == 1 and "Metadata.Image Size" in out and "fixed" not in out
    assert tree_hashes(root) == before


def test_add_missing_needs_fix(tmp_path, measurements, capsys):
    root = make_project(tmp_path, {"t.md": fixture_text("two_models.md")})
    before = tree_hashes(root)
    code, _, err = run_cli(["--project", str(root), "verify", "--add-missing"], capsys)
    assert code == 2 and "--fix" in err
    assert tree_hashes(root) == before


def test_a_template_changed_meanwhile_is_not_overwritten(tmp_path, measurements, seed_flops):
    text = fixture_text("two_models.md").replace(f"FLOPs: {seed_flops['dla46_c']}", "FLOPs: 1")
    root = make_project(tmp_path, {"t.md": text})
    template = read_template(root / "t.md", root)
    report = verify_report(settings_for(root))
    edited = text + "\nSomeone else's edit.\n"
    (root / "t.md").write_text(edited)
    with pytest.raises(InputError, match="changed on disk"):
        fix_template(template, report.findings)
    assert (root / "t.md").read_text() == edited


def test_write_atomic_replaces_keeping_the_mode_and_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "t.md"
    path.write_bytes(b"old\n")
    path.chmod(0o640)
    write_atomic(path, b"new\n")
    assert path.read_bytes() == b"new\n" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.md"]

    def fail(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_atomic(path, b"newer\n")
    assert path.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.md"]
