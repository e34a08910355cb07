"""The results source: timm's evaluation CSV read as data, and verify/--fix of the recorded accuracies."""

from __future__ import annotations

import csv
import re
import shutil

import pytest
from conftest import PROJECT
from verify_helpers import committed_text, line_of, make_project, run_cli, tree_hashes

from dla_docs import list_models
from dla_docs.errors import InputError
from dla_docs.metadata import read_template
from dla_docs.metadata.results import read_benchmarks, read_results

RESULTS = PROJECT / "data" / "timm_results_dla.csv"
BENCHMARKS = PROJECT / "data" / "timm_benchmark_dla.csv"
RESULTS_SETTING = 'results = "results.csv"\n'


def csv_rows(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def imagenet_rows() -> dict[str, dict[str, str]]:
    return {r["model"].split(".")[0]: r for r in csv_rows(RESULTS) if r["dataset"] == "imagenet"}


def test_sources_read_every_row_for_the_twelve_weights():
    source = read_results(RESULTS, PROJECT, set(list_models()))
    raw = csv_rows(RESULTS)
    assert len(source.rows) == len(raw) == 72
    for variant in list_models():
        rows = source.for_variant(variant)
        assert [r.dataset for r in rows][0] == "imagenet" and len(rows) == 6
        expected = {r["dataset"]: float(r["top1"]) for r in raw if r["model"] == f"{variant}.in1k"}
        assert {r.dataset: r.top1 for r in rows} == expected
    bench = read_benchmarks(BENCHMARKS, PROJECT, set(list_models()))
    assert len(bench.rows) == 36
    assert {b.hardware for b in bench.for_variant("dla34")} == {
        "NVIDIA GeForce RTX 5090", "NVIDIA GeForce RTX 4090", "Intel Core i7-12700H (CPU)"}


def test_committed_template_records_the_source_at_two_decimals():
    template = read_template(PROJECT / "templates" / "models" / "dla.md", PROJECT)
    rows = imagenet_rows()
    for entry in template.index.models:
        (result,) = entry.results
        assert result.dataset == "ImageNet"
        assert f"{result.metrics['Top 1 Accuracy']:.2f}" == f"{float(rows[entry.name]['top1']):.2f}", entry.name
        assert f"{result.metrics['Top 5 Accuracy']:.2f}" == f"{float(rows[entry.name]['top5']):.2f}", entry.name


@pytest.mark.parametrize("line, field, fragment", [
    ("imagenet,dla34.in1k,224,74.6x2,92.052,15.74,0.875,bilinear,results/x.csv", "top1", "expected a number"),
    ("imagenet,dla34.in1k,224,174.632,92.052,15.74,0.875,bilinear,results/x.csv", "top1", "[0, 100]"),
    ("imagenet,dla35.in1k,224,74.632,92.052,15.74,0.875,bilinear,results/x.csv", "model", "unknown DLA variant"),
    ("imagenet,dla34.in1k,22.4,74.632,92.052,15.74,0.875,bilinear,results/x.csv", "img_size", "positive integer"),
    ("imagenet,dla34.in1k,224,74.632,92.052,15.74,0.875,bilinear", "row", "8 fields, expected 9"),
])
def test_a_bad_row_is_one_line_naming_file_line_and_field(tmp_path, line, field, fragment):
    text = RESULTS.read_text().splitlines()
    text.insert(5, line)
    bad = tmp_path / "results.csv"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError) as info:
        read_results(bad, tmp_path, set(list_models()))
    message = str(info.value)
    assert "\n" not in message and fragment in message
    assert message.startswith("results.csv:6"), message
    assert f" {field}:" in message


def test_a_bad_results_file_stops_verify_with_exit_2_and_changes_nothing(tmp_path, measurements, capsys):
    root = make_project(tmp_path, {"dla.md": committed_text()}, RESULTS_SETTING)
    (root / "results.csv").write_text(RESULTS.read_text().replace("74.632", "74.63.2"))
    before = tree_hashes(root)
    code, out, err = run_cli(["--project", str(root), "verify", "--fix"], capsys)
    assert code == 2
    assert re.search(r"results\.csv:\d+:4: top1: expected a number, got '74\.63\.2'$", err.strip()), err
    assert err.count("\n") == 1
    assert tree_hashes(root) == before


def test_a_changed_accuracy_is_drift_and_fix_restores_it(tmp_path, measurements, capsys):
    original = committed_text()
    recorded = f"{float(imagenet_rows()['dla60x']['top5']):.2f}%"
    assert f"Top 5 Accuracy: {recorded}" in original
    text = original.replace(f"Top 5 Accuracy: {recorded}", "Top 5 Accuracy: 94.99%", 1)
    root = make_project(tmp_path, {"dla.md": text}, RESULTS_SETTING)
    shutil.copy(RESULTS, root / "results.csv")
    code, out, err = run_cli(["--project", str(root), "verify"], capsys)
    assert code == 1, out + err
    line = line_of(text, "94.99%")
    finding = next(l for l in out.splitlines() if "Accuracy" in l)
    assert finding.startswith(f"dla.md:{line}:23: Models[")
    assert "(dla60x).Results[0].Metrics.Top 5 Accuracy: recorded 94.99, source" in finding
    assert "[fixable with --fix]" in finding
    assert out.count("Accuracy") == 1
    code, out, err = run_cli(["--project", str(root), "verify", "--fix"], capsys)
    assert code == 0, out + err
    assert (root / "dla.md").read_text() == original
    code, out, err = run_cli(["--project", str(root), "verify"], capsys)
    assert code == 0 and "fixed" not in out


def test_precision_written_decides(tmp_path, measurements, capsys):
    """Fewer than two decimals (74.6%) is drift, fixed to two; quoting and % survive --fix (issue 27, case 17)."""
    original = committed_text()
    dla34 = imagenet_rows()["dla34"]
    top1, top5 = f"{float(dla34['top1']):.2f}%", f"{float(dla34['top5']):.2f}%"
    text = original.replace(f"Top 1 Accuracy: {top1}", f"Top 1 Accuracy: {float(dla34['top1']):.1f}%", 1)
    text = text.replace(f"Top 5 Accuracy: {top5}", "Top 5 Accuracy: '92.01'", 1)
    root = make_project(tmp_path, {"dla.md": text}, RESULTS_SETTING)
    shutil.copy(RESULTS, root / "results.csv")
    code, out, _ = run_cli(["--project", str(root), "verify", "--fix"], capsys)
    assert code == 0, out
    fixed = (root / "dla.md").read_text()
    assert f"Top 5 Accuracy: '{float(dla34['top5']):.2f}'" in fixed
    assert f"Top 1 Accuracy: {float(dla34['top1']):.2f}%" in fixed


def test_cards_show_the_six_test_sets_and_recorded_throughput_with_sources(generated):
    import html

    results, benchmarks = csv_rows(RESULTS), csv_rows(BENCHMARKS)
    for variant in list_models():
        card = html.unescape(generated.files[f"models/{variant}.md"].decode())
        accuracy = card[card.index("## Accuracy"):card.index("## Measured and recorded")]
        rows = [r for r in results if r["model"] == f"{variant}.in1k"]
        assert len(rows) == 6
        for r in rows:
            assert f"| {r['top1']} | {r['top5']} | {r['img_size']} | {r['crop_pct']} | {r['interpolation']} | " \
                   f"<code>{r['source']}</code> |" in accuracy, (variant, r["dataset"])
        assert "data/timm_results_dla.csv" in accuracy
        throughput = card[card.index("## Recorded inference throughput"):card.index("## Measured and recorded")]
        timed = [b for b in benchmarks if b["model"] == variant]
        assert len(timed) == 3 and "data/timm_benchmark_dla.csv" in throughput
        for b in timed:
            row = next(line for line in throughput.splitlines() if f"<code>{b['source']}</code>" in line)
            assert f"| {b['samples_per_sec']} | {b['step_time_ms']} | " in row and f"batch {b['batch_size']}," in row
