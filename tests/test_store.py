"""The sealed store: hits give the same facts, damage is a miss, and no change to the code that
measured an entry can leave it in use (the code manifest, not a list kept by hand)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT, session_settings

from dla_docs import run
from dla_docs.config import load_settings
from dla_docs.measure.stored import MeasurementShelf, measurement_shelf
from dla_docs.store import SealedFolder

ONE = "dla46_c"


def _settings(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[tool.dla-docs]\n")
    return load_settings(tmp_path)


def _no_server(monkeypatch):
    monkeypatch.setattr("dla_docs.measure.runner.MeasuringServer.__init__",
                        lambda self: pytest.fail("the measuring server was started on a hit"))


def test_a_hit_gives_the_same_facts_without_measuring(measurements, monkeypatch):
    settings = session_settings(load_settings(PROJECT))
    _no_server(monkeypatch)
    assert run.measure(settings, [ONE, "dla169"]).measurements == {ONE: measurements[ONE],
                                                                   "dla169": measurements["dla169"]}


@pytest.mark.parametrize("damage", ["tamper", *(pytest.param(d, marks=pytest.mark.slow)  # each measures twice
                                                for d in ("truncate", "garbage", "wrong-shape", "foreign key", "link"))])
def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path, measurements, damage):
    settings = _settings(tmp_path)
    store = tmp_path / ".dla-docs-cache"
    assert run.measure(settings, [ONE]).measurements[ONE] == measurements[ONE]
    (entry,) = [p for p in store.rglob("*.json")]
    data = entry.read_bytes()
    head, _, payload = data.partition(b"\n")
    if damage == "truncate":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        entry.write_bytes(b"\x00\xff not json")
    elif damage == "tamper":  # a plausible entry whose seal no longer matches
        entry.write_bytes(data.replace(f'"parameters":{measurements[ONE].parameters}'.encode(), b'"parameters":1', 1))
    elif damage == "wrong-shape":  # fields of the wrong type, sealed anew with the store's own key
        record = json.loads(payload)
        record["facts"]["measurement"]["levels"] = "nope"
        SealedFolder(store).write(entry.relative_to(store).as_posix(), json.loads(head)["name"], record)
    elif damage == "foreign key":  # another store's key: every seal fails
        (store / ".key").write_bytes(os.urandom(32))
    else:
        outside = tmp_path / "outside.json"
        outside.write_bytes(data)
        entry.unlink()
        entry.symlink_to(outside)
    shelf = MeasurementShelf(SealedFolder(store))
    assert shelf.get(ONE, 224) is None
    assert run.measure(settings, [ONE]).measurements[ONE] == measurements[ONE]
    assert shelf.get(ONE, 224).facts.measurement == measurements[ONE]


def test_entry_names_differ_by_variant_and_size():
    names = {MeasurementShelf.entry_name(v, s) for v, s in (("dla34", 224), ("dla34", 256), (ONE, 224))}
    assert len(names) == 3


def test_a_store_is_not_read_under_ci(tmp_path, measurements, monkeypatch):
    settings = _settings(tmp_path)
    run.measure(settings, [ONE])
    for value, read in (("true", False), ("1", False), ("false", True), ("0", True), ("", True)):
        monkeypatch.setenv("CI", value)
        assert (MeasurementShelf(SealedFolder(tmp_path / ".dla-docs-cache")).get(ONE, 224) is not None) is True
        from dla_docs.store import open_store

        opened = open_store(settings.cache_dir, no_cache=False)
        assert (measurement_shelf(opened).get(ONE, 224) is not None) is read, value


def test_a_missing_measuring_package_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    """A broken environment (fvcore's metadata gone) is not a traceback (issue 21, case 15)."""
    from importlib import metadata

    from dla_docs.cli import main
    from dla_docs.store import seal as store

    real = metadata.version

    def version(name: str) -> str:
        if name == "fvcore":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "version", version)
    store.package_versions.cache_clear()
    try:
        code = main(["--project", str(_settings(tmp_path).root), "measure", ONE])
    finally:
        store.package_versions.cache_clear()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("dla-docs: error: fvcore: not installed"), err


# -- the code behind an entry: a copy of the package, edited as a developer would ------------


def _copy_package(tmp_path: Path) -> Path:
    """This package and a project using it, in ``tmp_path``; commands run with it first on the path."""
    code = tmp_path / "code"
    shutil.copytree(PROJECT / "dla_docs", code / "dla_docs", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "pyproject.toml").write_text("[tool.dla-docs]\n")
    return code


def _measure(code: Path, project: Path) -> dict:
    """``dla-docs measure dla46_c --json`` run with the copied package; the entry's identity after."""
    script = f"import sys; sys.path.insert(0, {str(code)!r}); from dla_docs.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", script, "--project", str(project), "measure", ONE, "--json"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (entry,) = [p for p in (project / ".dla-docs-cache").rglob("*.json")]
    stat = entry.stat()
    return {"entry": (stat.st_ino, stat.st_mtime_ns), "out": json.loads(done.stdout)}


def test_the_code_manifest_names_each_package_module_however_its_path_is_spelt(tmp_path, monkeypatch):
    """A module's file is named by where it resolves: through a linked folder or file, a
    ``..`` after a link, a relative path; a file outside the package is not named."""
    import hashlib
    import types

    from dla_docs.store import loaded_code

    package = PROJECT / "dla_docs"
    (tmp_path / "pkg").symlink_to(package)
    (tmp_path / "core.py").symlink_to(package / "measure" / "core.py")
    (tmp_path / "lib.so").symlink_to(package / "zoo" / "blocks.py")
    (tmp_path / "outside.py").write_text("x = 1\n")
    (tmp_path / "away.py").symlink_to(tmp_path / "outside.py")
    monkeypatch.chdir(tmp_path)
    files = {  # __file__ -> the name it must have in the manifest (None: not named)
        str(tmp_path / "pkg" / "zoo" / "variants.py"): "zoo/variants.py",
        str(tmp_path / "core.py"): "measure/core.py",
        str(tmp_path / "lib.so"): "zoo/blocks.py",
        f"{tmp_path}/pkg/../{package.name}/run.py": "run.py",  # `..` taken after the link, as the kernel does
        "pkg/measure/spec.py": "measure/spec.py",
        str(tmp_path / "outside.py"): None,
        str(tmp_path / "away.py"): None,
        str(package / "zoo"): None,
    }
    manifest = loaded_code([types.SimpleNamespace(__file__=file) for file in files])
    expected = {name: hashlib.sha256((package / name).read_bytes()).hexdigest() for name in files.values() if name}
    assert manifest == dict(sorted(expected.items()))


@pytest.mark.slow
def test_any_change_to_the_code_that_measured_an_entry_is_a_miss(tmp_path):
    """Issue 20 and issue 21, case 1: an edited package module, a new module an edited one
    imports, an edit to that new module alone and an edit to the measuring server each make the
    next command measure again; an unchanged package does not."""
    code, project = _copy_package(tmp_path), tmp_path / "project"
    first = _measure(code, project)
    assert _measure(code, project)["entry"] == first["entry"]  # unchanged code: a hit

    seen = {first["entry"]}

    def measured_again() -> dict:
        again = _measure(code, project)
        assert again["entry"] not in seen, "the entry was used although the code that measured it changed"
        seen.add(again["entry"])
        return again

    with (code / "dla_docs" / "zoo" / "__init__.py").open("a") as f:
        f.write("# a line appended\n")
    measured_again()

    blocks = code / "dla_docs" / "zoo" / "blocks.py"
    source = blocks.read_text()
    start = source.index("def bottleneck_width")
    end = source.index("\n\n\nclass BasicBlock")
    (code / "dla_docs" / "zoo" / "widths.py").write_text("import math\n\n\n" + source[start:end] + "\n")
    blocks.write_text(source[:start] + "from dla_docs.zoo.widths import bottleneck_width  # noqa: E402\n"
                      + source[end:])
    assert measured_again()["out"] == first["out"]  # moved, not changed

    widths = code / "dla_docs" / "zoo" / "widths.py"
    widths.write_text(widths.read_text().replace("* cardinality) // expansion", "* cardinality) // expansion + 8"))
    changed = measured_again()
    assert changed["out"][ONE]["parameters"] != first["out"][ONE]["parameters"]  # the new formula was used

    server = code / "dla_docs" / "measure" / "server.py"
    server.write_text(server.read_text() + "\n# a comment in the worker's module\n")
    measured_again()
