"""`dla-docs diff`: exit codes, and the differences against the configurations and measurements."""

from __future__ import annotations

import json

from conftest import copy_project

from dla_docs.cli import main
from dla_docs.measure.diff import changed_nodes
from dla_docs.zoo.variants import list_models


def test_diff_dla102_dla102x2(tmp_path, measurements, capsys):
    root = copy_project(tmp_path / "p", measurements)
    assert main(["--project", str(root), "diff", "dla102", "dla102x2", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # From the zoo's configurations: DLA-X-102 64 is DLA-102 with 64 groups of width 4.
    assert {c["name"]: (c["a"], c["b"]) for c in data["config"]} == {"cardinality": (1, 64), "base_width": (64, 4)}
    a, b = measurements["dla102"], measurements["dla102x2"]
    for level, la, lb in zip(data["levels"], a.levels, b.levels):
        assert (level["parameters"]["a"], level["parameters"]["b"]) == (la.parameters, lb.parameters)
        assert (level["macs"]["a"], level["macs"]["b"]) == (la.macs, lb.macs)
    assert main(["--project", str(root), "diff", "dla102", "dla102x2"]) == 0
    assert "cardinality: 1 -> 64" in capsys.readouterr().out


def test_unknown_variant_exits_2_with_the_names(tmp_path, capsys):
    root = copy_project(tmp_path / "p")
    assert main(["--project", str(root), "diff", "dla102", "dla103"]) == 2
    err = capsys.readouterr().err
    assert "dla103" in err and all(name in err for name in list_models())


def test_more_groups_change_the_blocks_only(structures):
    """Cardinality widens the grouped 3x3 convolutions of the blocks; roots, pools and
    projections keep their widths, so only blocks may be marked in the graph."""
    a, b = structures["dla102x"], structures["dla102x2"]
    assert changed_nodes(a, b) == {n.id for n in b.nodes() if n.kind == "block"}
