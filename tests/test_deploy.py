"""``dla-docs deploy``: the committed record, checked by ``verify`` without exporting anything,
re-measured by ``deploy --check``, shown on the cards; a failing export shown, not hidden."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT, copy_project, render_project, session_settings
from verify_helpers import run

from dla_docs.deploy import record as rec
from dla_docs.deploy.rules import TOLERANCE
from dla_docs.zoo.variants import list_models

RECORD = PROJECT / rec.RECORD_FILE


def _edit_record(root: Path, change) -> None:
    path = root / rec.RECORD_FILE
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))


# -- the committed record, without running anything -----------------------------------------


def test_the_committed_record_holds_every_variant_with_its_code_and_versions():
    record = json.loads(RECORD.read_text())
    assert sorted(record["variants"]) == sorted(list_models())
    assert set(record["versions"]) == {"torch", "onnx", "onnxscript", "onnxruntime"}
    assert any(path.startswith("zoo/") for path in record["code"]) and "deploy/checks.py" in record["code"]
    for name, facts in record["variants"].items():
        assert facts["onnx"]["opset"] and facts["onnx"]["size_bytes"] > 0, name
    runtimes = {(row["model"], row["runtime"].split()[0]) for row in record["latency"]}
    assert runtimes == {(n, r) for n in list_models() for r in ("pytorch", "onnxruntime")}
    timm_columns = "model,img_size,samples_per_sec,step_time_ms,batch_size,param_count_m".split(",")
    assert all(set(timm_columns) <= set(row) for row in record["latency"])
    assert rec.staleness(rec.read_record(PROJECT), list_models()) == []  # it vouches for this code


@pytest.mark.parametrize("change, why", [
    (lambda r: r["versions"].__setitem__("onnxruntime", "1.31.0"), "records onnxruntime 1.31.0"),
    # the digest recorded for a zoo block no longer that file's content: what editing the block does
    pytest.param(lambda r: r["code"].__setitem__("zoo/blocks.py", "0" * 64), "dla_docs/zoo/blocks.py",
                 marks=pytest.mark.slow),
    pytest.param(lambda r: r["variants"].pop("dla169"), "missing: dla169", marks=pytest.mark.slow),
])
def test_verify_reports_a_stale_deploy_record_in_one_line(tmp_path, measurements, capsys, change, why):
    root = copy_project(tmp_path / "project", measurements)
    assert run(["--project", root, "verify"], capsys)[0] == 0
    _edit_record(root, change)
    code, out, err = run(["--project", root, "verify"], capsys)
    assert code == 1
    lines = [line for line in out.splitlines() if rec.RECORD_FILE in line]
    assert len(lines) == 1 and "`dla-docs deploy`" in lines[0] and why in lines[0], out


def test_deploy_says_how_to_install_its_packages_when_missing(tmp_path, monkeypatch, capsys):
    import importlib.util

    from dla_docs.deploy import running

    real = importlib.util.find_spec
    monkeypatch.setattr(running.importlib.util, "find_spec", lambda n, *a: None if n == "onnxruntime" else real(n, *a))
    root = copy_project(tmp_path / "project")
    before = (root / rec.RECORD_FILE).read_bytes()
    code, out, err = run(["--project", root, "deploy", "dla34"], capsys)
    assert code == 2 and "onnxruntime" in err and "pip install 'dla-docs[deploy]'" in err
    assert (root / rec.RECORD_FILE).read_bytes() == before


def test_every_card_has_the_deploy_section_and_the_family_page_the_table(generated):
    record = json.loads(RECORD.read_text())
    import html

    family = html.unescape(generated.files["index.md"].decode())
    assert 'id="dla-deploy-table"' in family and record["machine"]["cpu"] in family
    for name in list_models():
        card = generated.files[f"models/{name}.md"].decode()
        section = card[card.index("## Deploy"):]
        assert "pip install onnx onnxscript onnxruntime" in section
        onnx = record["variants"][name]["onnx"]
        assert f"opset {onnx['opset']}" in section and f"{onnx['size_bytes'] / 1e6:.1f} MB" in section, name
        assert f'href="models/{name}.html#deploy"' in family


def test_the_hugging_face_card_carries_the_deploy_section(tmp_path, measurements, capsys):
    root = copy_project(tmp_path / "project", measurements)
    assert run(["--project", root, "export", "hf", "dla34", "-o", tmp_path / "cards"], capsys)[0] == 0
    body = (tmp_path / "cards" / "dla34" / "README.md").read_text()
    section = body[body.index("## Deploy"):]
    machine = json.loads(RECORD.read_text())["machine"]["cpu"]
    assert "onnxruntime.InferenceSession" in section and machine in section and "opset" in section


# -- re-measured (slow: every export runs) --------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_deploy_check_passes_on_the_committed_record_for_all_variants(capsys):
    before = RECORD.read_bytes()
    code, out, err = run(["--project", PROJECT, "deploy", "--check"], capsys)
    assert code == 0, out + err
    assert f"{len(list_models())} variant(s) match" in err + out
    assert RECORD.read_bytes() == before


@pytest.mark.slow
def test_deploy_check_fails_on_any_difference_and_writes_nothing(tmp_path, capsys):
    root = copy_project(tmp_path / "project")
    _edit_record(root, lambda r: r["variants"]["dla46_c"]["onnx"].__setitem__("size_bytes", 1))
    before = (root / rec.RECORD_FILE).read_bytes()
    code, out, err = run(["--project", root, "deploy", "--check", "dla46_c"], capsys)
    assert code == 1
    assert re.search(r"dla46_c: onnx size_bytes: recorded 1, measured \d+", err), err
    assert (root / rec.RECORD_FILE).read_bytes() == before


@pytest.mark.slow
def test_a_failing_export_is_recorded_and_shown_with_its_operator(tmp_path, measurements, capsys, monkeypatch):
    """The fault seam gives dla46_c an operator with no ONNX translation (a custom op that
    torch.export traces): the ONNX step fails, naming it; torch.export still works; the card shows it."""
    from dla_docs.config import load_settings

    monkeypatch.setenv("DLA_DOCS_DEPLOY_FAULT", "dla46_c")  # read by the measuring worker
    root = copy_project(tmp_path / "project", measurements)
    code, out, err = run(["--project", root, "deploy", "dla46_c"], capsys)
    assert code == 0, err
    facts = json.loads((root / rec.RECORD_FILE).read_text())["variants"]["dla46_c"]
    assert facts["torch_export"]["non_strict"]["ok"] and "strict" not in facts["torch_export"]
    assert facts["onnx"]["ok"] is False and facts["onnx"]["operator"] == "dla_docs_fault::identity", facts["onnx"]
    assert facts["onnx"]["error"] and "\n" not in facts["onnx"]["error"]
    import html

    card = render_project(session_settings(load_settings(root))).files["models/dla46_c.md"].decode()
    section = html.unescape(card[card.index("## Deploy"):card.index("## Aggregation structure")])
    assert "**Not every step works for dla46_c**" in section
    row = next(line for line in section.splitlines() if line.startswith("| ONNX export + onnxruntime |"))
    assert "| **no** |" in row and "(operator: dla_docs_fault::identity)" in row and facts["onnx"]["error"][:40] in row


@pytest.mark.slow
def test_the_cards_onnx_snippet_gives_the_eager_output_within_the_tolerance(generated, offline_hub, tmp_path):
    """The card's ONNX block, unchanged, in a fresh Python; a line appended saves what it computed.
    The oracle: the eager model, loaded here from the same cached weights."""
    import numpy as np
    import torch

    import dla_docs

    card = generated.files["models/dla34.md"].decode()
    section = card[card.index("## Deploy"):]
    block = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    saved = tmp_path / "saved.npz"
    code = block + f"\nnp.savez({str(saved)!r}, batch=batch[:1].numpy(), logits=logits)\n"
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(offline_hub)}
    done = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert list(work.iterdir()) == []  # nothing written into the working folder
    printed = float(re.search(r"relative error (\S+) ", done.stdout).group(1))
    data = np.load(saved)
    model = dla_docs.create_model("dla34", pretrained=True).eval()
    with torch.no_grad():
        eager = model(torch.from_numpy(data["batch"])).numpy()
    error = np.abs(data["logits"] - eager).max() / np.abs(eager).max()
    assert error <= TOLERANCE and printed <= TOLERANCE


@pytest.mark.slow
def test_an_exported_models_weights_are_freed_once_its_onnx_file_is_checked(tmp_path):
    """After the ONNX step no tensor sharing a weight's memory is alive anywhere in the process
    (the oracle: every object the garbage collector tracks), although onnxscript's rewriter keeps
    its last match in module-level objects; the step's facts are still those of a working export."""
    import gc
    import weakref

    import torch

    from dla_docs.deploy import checks
    from dla_docs.deploy.weights import sample_input

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
    with torch.no_grad():
        eager_of = {size: model(sample_input(32, size)) for size in (1, 4)}
    weight = model[0].weight
    pointer = weight.untyped_storage().data_ptr()
    alive = weakref.ref(weight)
    program = torch.export.export(model, (sample_input(32, 2),), dynamic_shapes=checks._dynamic_batch())
    source = [program]
    del model, program, weight
    facts = checks._onnx(source, 32, eager_of, tmp_path / "small.onnx")
    assert facts["ok"] and facts["checker"] and set(facts["batches"]) == {"1", "4"}, facts
    gc.collect()
    assert alive() is None
    sharing = [o for o in gc.get_objects() if type(o) in (torch.Tensor, torch.nn.Parameter)
               and o.device.type == "cpu" and o.untyped_storage().data_ptr() == pointer]
    assert sharing == []
