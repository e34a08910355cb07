"""`dla-docs measure`: JSON shape, table, and exit code 2 with a message on bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dla_docs.cli import main

REQUIRED = {"parameters", "macs", "flops_model_index", "activations", "checkpoint_bytes",
            "image_size", "levels", "skipped_ops"}


@pytest.fixture
def tmp_path(tmp_path):
    """A bare project: a pyproject.toml with an empty [tool.dla-docs] (every setting default)."""
    (tmp_path / "pyproject.toml").write_text("[tool.dla-docs]\n", encoding="utf-8")
    return tmp_path


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_documented_fields(capsys, seed_flops, tmp_path):
    code, out, _ = run(["--project", str(tmp_path), "measure", "dla46_c", "dla34", "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["dla46_c", "dla34"]
    for name, record in data.items():
        assert REQUIRED <= set(record)
        assert record["flops_model_index"] == seed_flops[name]
        assert {"name", "stride", "channels", "height", "width", "parameters", "macs"} == set(record["levels"][0])


def test_table_lists_variants_and_says_macs(capsys, tmp_path):
    code, out, _ = run(["--project", str(tmp_path), "measure", "dla46x_c"], capsys)
    assert code == 0
    assert "dla46x_c" in out and "544,052,200" in out and "multiply-add" in out


def test_unknown_variant_exits_2_listing_valid_names(capsys):
    code, _, err = run(["measure", "dla35"], capsys)
    assert code == 2
    assert "dla35" in err and "dla60_res2next" in err


def test_bad_image_size_exits_2(capsys):
    for size in ("0", "31", "abc", "100000"):
        code, _, err = run(["measure", "dla34", "--image-size", size], capsys)
        assert code == 2, size
        assert "--image-size" in err


def test_console_script_end_to_end(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "dla_docs", "--project", str(tmp_path), "measure", "dla46_c", "--json", "--no-cache"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["dla46_c"]["parameters"] == 1301400
    assert not (tmp_path / ".dla-docs-cache").exists()  # --no-cache writes nothing
