"""Real checkpoints given to ``verify --checkpoint-dir``: loaded safely, checked against the variant.

Only ``torch.load(weights_only=True)`` and safetensors read a checkpoint: a pickle that would
run code is refused (and its code never runs), a checkpoint of another variant is reported
as that variant's, and a link leading out of the project is not followed.
"""

from __future__ import annotations

import builtins
import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from conftest import copy_project

from dla_docs import create_model
from dla_docs.checks.checkpoints import matching_variants
from dla_docs.cli import main

TEMPLATE = "templates/models/dla.md"


class _WritesMarker:
    """Unpickling this calls ``open(marker, "w")``: harmless, and visible if it ever runs."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.open, (str(self.marker), "w"))


@pytest.fixture
def project(tmp_path, measurements) -> Path:
    return copy_project(tmp_path / "project", measurements)


@pytest.fixture(scope="module")
def dla46_c_state() -> dict[str, torch.Tensor]:
    return create_model("dla46_c").state_dict()


def verify_json(root: Path, folder: str, capsys) -> tuple[int, dict, str]:
    code = main(["--project", str(root), "verify", "--format", "json", "--checkpoint-dir", str(root / folder)])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith("{") else {}, err


def test_a_pickle_that_would_run_code_is_refused_and_never_runs(project, tmp_path, capsys):
    marker = tmp_path / "RAN"
    (project / "ck").mkdir()
    with open(project / "ck" / "dla34-evil.pth", "wb") as file:
        pickle.dump({"weight": _WritesMarker(marker)}, file, protocol=2)
    code = main(["--project", str(project), "verify", "--checkpoint-dir", str(project / "ck")])
    out, err = capsys.readouterr()
    assert code == 2 and not marker.exists()
    (line,) = err.splitlines()
    assert line.startswith("dla-docs: error: ck/dla34-evil.pth: checkpoint: refused by torch.load(weights_only=True)")
    assert "GLOBAL io.open" in line and "nothing in the file was run" in line and "Traceback" not in out + err
    # the payload is live: a plain pickle.load would have run it
    with open(project / "ck" / "dla34-evil.pth", "rb") as file:
        pickle.load(file).get("weight").close()
    assert marker.exists()


def test_a_torch_saved_object_with_code_is_refused_too(project, tmp_path, capsys):
    marker = tmp_path / "RAN"
    (project / "ck").mkdir()
    torch.save({"weight": _WritesMarker(marker)}, project / "ck" / "dla34.pth")  # zip format
    code = main(["--project", str(project), "verify", "--checkpoint-dir", str(project / "ck")])
    assert code == 2 and not marker.exists()
    assert "weights_only=True" in capsys.readouterr().err


def test_a_checkpoint_of_another_variant_is_named_as_such(project, dla46_c_state, capsys):
    (project / "ck").mkdir()
    torch.save(dla46_c_state, project / "ck" / "dla34-x.pth")
    code, report, _ = verify_json(project, "ck", capsys)
    assert code == 1
    (finding,) = report["findings"]  # File Size is not compared with another variant's file
    assert (finding["kind"], finding["variant"], finding["file"]) == ("checkpoint", "dla34", "ck/dla34-x.pth")
    assert finding["message"].startswith("does not load strictly into dla34: it is a dla46_c checkpoint")


def test_a_checkpoint_of_no_variant_says_so(project, dla46_c_state, capsys):
    (project / "ck").mkdir()
    state = dict(dla46_c_state)
    state["fc.weight"] = torch.zeros(10, *state["fc.weight"].shape[1:])  # fine-tuned head: 10 classes
    torch.save(state, project / "ck" / "dla46_c.pth")
    code, report, _ = verify_json(project, "ck", capsys)
    (finding,) = report["findings"]
    assert code == 1 and "nor into any variant of the zoo" in finding["message"] and "fc.weight" in finding["message"]


def test_matching_variants_compares_keys_and_shapes(dla46_c_state):
    assert matching_variants(dla46_c_state) == ["dla46_c"]
    assert matching_variants({k: v for k, v in dla46_c_state.items() if k != "fc.bias"}) == []


def test_a_matching_safetensors_file_makes_file_size_exact(project, dla46_c_state, capsys):
    from safetensors.torch import save_file

    (project / "weights").mkdir()
    path = project / "weights" / "dla46_c.safetensors"
    save_file(dla46_c_state, str(path))
    size = path.stat().st_size
    code, report, _ = verify_json(project, "weights", capsys)
    (finding,) = report["findings"]  # the template records the published .pth size
    assert code == 1 and (finding["variant"], finding["field"]) == ("dla46_c", "Metadata.File Size")
    assert finding["measured"] == size and "exactly" in finding["message"]
    template = project / TEMPLATE
    text = template.read_text(encoding="utf-8")
    recorded = finding["recorded"]
    template.write_text(text.replace(f"File Size: {recorded}\n", f"File Size: {size}\n"), encoding="utf-8")
    code, report, _ = verify_json(project, "weights", capsys)
    assert code == 0 and report["findings"] == []
    template.write_text(text.replace(f"File Size: {recorded}\n", f"File Size: {size + 1}\n"), encoding="utf-8")
    code, report, _ = verify_json(project, "weights", capsys)
    assert code == 1 and [f["difference"] for f in report["findings"]] == [-1]


def test_a_checkpoint_link_leading_outside_is_not_followed(project, tmp_path, capsys):
    marker = tmp_path / "RAN"
    outside = tmp_path / "outside"
    outside.mkdir()
    with open(outside / "dla34.pth", "wb") as file:
        pickle.dump({"weight": _WritesMarker(marker)}, file, protocol=2)
    (project / "ck").mkdir()
    os.symlink(outside / "dla34.pth", project / "ck" / "dla34.pth")
    code = main(["--project", str(project), "verify", "--checkpoint-dir", str(project / "ck")])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and not marker.exists()
    assert line == (f"dla-docs: error: ck/dla34.pth: checkpoint: is a link to {outside / 'dla34.pth'}, "
                    f"outside the project folder {project}; refused")


@pytest.mark.parametrize("data, says", [(b"", "the file is empty"), (b"not a checkpoint", "Unsupported operand"),
                                        (b"PK\x03\x04broken zip", "zip archive")])
def test_a_file_that_is_no_checkpoint_is_one_clear_line(project, capsys, data, says):
    (project / "ck").mkdir()
    (project / "ck" / "dla34.pth").write_bytes(data)
    code = main(["--project", str(project), "verify", "--checkpoint-dir", str(project / "ck")])
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2 and line.startswith("dla-docs: error: ck/dla34.pth: checkpoint: refused") and says in line
