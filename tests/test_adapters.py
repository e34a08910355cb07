"""The private torch and fvcore names, each against the public path it stands in for."""

from __future__ import annotations

import dataclasses
from importlib import metadata

import importlib

import pytest
import torch
from fvcore.nn.jit_analysis import JitModelAnalysis

from dla_docs.measure import meta_shapes
from dla_docs.measure.adapters import CHECKED_VERSIONS, fvcore_private, torch_private, version_note
from dla_docs.measure.core import measure_facts
from dla_docs.measure.recording import record_forward
from dla_docs.measure.views.counts import jit_graph
from dla_docs.zoo.factory import create_uninitialised

_aten = torch.ops.aten


def test_the_version_note_is_silent_on_the_checked_versions_and_one_line_otherwise(monkeypatch):
    installed = {name: metadata.version(name).split("+")[0] for name in CHECKED_VERSIONS}
    assert (version_note() is None) == (installed == CHECKED_VERSIONS)
    monkeypatch.setattr(metadata, "version", lambda name: {"torch": "2.14.1+cpu"}.get(name, "0.1.5.post20221221"))
    note = version_note()
    assert "torch 2.14.1+cpu (checked: 2.13.0)" in note and "fvcore" not in note.split(":")[0]
    assert "\n" not in note


def test_without_fvcores_private_tables_its_public_handles_count_the_same(monkeypatch):
    """The handle tables FlopCountAnalysis and ActivationCountAnalysis install, against the same
    tables built from fvcore's public handles, on the walk of a recorded dla60_res2next."""
    private = fvcore_private.default_flop_handles(), fvcore_private.default_activation_handles()
    for module in ("fvcore.nn.flop_count", "fvcore.nn.activation_count"):
        monkeypatch.delattr(importlib.import_module(module), "_DEFAULT_SUPPORTED_OPS")
    public = fvcore_private.default_flop_handles(), fvcore_private.default_activation_handles()
    model = create_uninitialised("dla60_res2net").to_empty(device="meta")
    graph = jit_graph(record_forward(model, 64))
    for ours, theirs in zip(private, public):
        assert ours.keys() == theirs.keys() and ours != theirs  # the same operators, other handle objects
        walked = []
        for handles in (ours, theirs):
            analysis = JitModelAnalysis(model, (torch.empty(1, 3, 64, 64, device="meta"),)).set_op_handle(**handles)
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            assert fvcore_private.walk(analysis, graph)
            walked.append(analysis.by_module_and_operator())
        assert walked[0] == walked[1] and walked[0][""]


def test_without_flop_counter_formulas_flop_counter_mode_gives_the_column(monkeypatch):
    """The FlopCounterMode column from its formulas on the memory pass, and from FlopCounterMode
    itself around a forward pass (the public path) when the formulas cannot be used."""
    normal = measure_facts("dla46_c", 64).measurement.flops_reconciliation
    monkeypatch.setattr(torch_private, "FLOP_FORMULAS", None)
    public = measure_facts("dla46_c", 64).measurement.flops_reconciliation
    assert public == normal and public.flop_counter_by_operator["convolution"] > 0


def test_a_formula_that_refuses_the_private_keyword_hands_over_to_flop_counter_mode(monkeypatch):
    def refuses(*args, **kwargs):
        raise TypeError("unexpected keyword argument 'out_val'")

    normal = measure_facts("dla46_c", 64).measurement.flops_reconciliation
    monkeypatch.setattr(torch_private, "FLOP_FORMULAS", dict.fromkeys(torch_private.FLOP_FORMULAS, refuses))
    assert measure_facts("dla46_c", 64).measurement.flops_reconciliation == normal


def test_a_meta_shape_rule_is_used_only_where_its_arguments_still_are():
    rule = object()
    kept = meta_shapes.rules_that_hold({
        _aten.convolution.default: (rule, ("input", "weight", "bias", "stride")),
        _aten.convolution_backward.default: (rule, ("grad_output", "input", "weight", "stride")),  # moved
        _aten.cat.default: (rule, ("self",)),  # renamed
    })
    assert kept == {_aten.convolution.default: rule}


def test_without_the_meta_shape_rules_torchs_kernels_give_the_same_shapes(monkeypatch):
    """The way out when every schema changed: torch's own meta kernels, same recording."""
    def shapes(model):
        recording = record_forward(model, 64)
        return [(c.function, [recording.shape(t) for t in c.outputs]) for c in recording.calls]

    model = create_uninitialised("dla60_res2next").to_empty(device="meta")
    fast = shapes(model)
    monkeypatch.setattr(meta_shapes, "SHAPE_RULES", {})
    monkeypatch.setattr(meta_shapes, "KEYWORD_RULES", {})
    assert shapes(model) == fast


@pytest.mark.parametrize("op", sorted(meta_shapes.RULES_BY_POSITION, key=str))
def test_every_meta_shape_rule_holds_on_this_torch(op):
    """On the checked torch no rule is dropped (a dropped one would only cost speed)."""
    assert op in meta_shapes.SHAPE_RULES


_OTHER_VERSIONS = """
import importlib.metadata as metadata, json, sys
real = metadata.version
metadata.version = lambda name: {"torch": "2.99.0", "fvcore": "0.2.0"}.get(name) or real(name)
from dataclasses import replace
from dla_docs.measure import meta_shapes
from dla_docs.measure.adapters import torch_private
from dla_docs.measure.core import measure_facts
facts = measure_facts("dla46_c", 64)
print(json.dumps({"rules": len(meta_shapes.SHAPE_RULES), "formulas": torch_private.FLOP_FORMULAS is None,
                  "notes": facts.notes, "measurement": repr(replace(facts.measurement, peak_memory=None))}))
"""


def test_off_the_checked_versions_every_public_path_runs_and_measures_the_same():
    """Chosen by version: a torch and an fvcore other than the checked ones use no private name
    (no meta-shape rule, no FlopCounterMode formula, no tracer layout: fvcore's own trace) and
    measure the same;
    all but the inference peak memory, which comes out higher under torch's own meta kernels
    (they allocate storages the rules do not; test_memory.py checks the rules' peak against
    the CPU allocator)."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _OTHER_VERSIONS], capture_output=True, text=True, check=True)
    other = json.loads(out.stdout.splitlines()[-1])
    assert other["rules"] == 0 and other["formulas"]
    (note,) = other["notes"]
    assert note.startswith("dla46_c: counted by fvcore's own JIT trace (slower, same counts): calls without a "
                           "recording rule: conv2d (tracer layout not checked on this torch)")
    assert other["measurement"] == repr(dataclasses.replace(measure_facts("dla46_c", 64).measurement,
                                                            peak_memory=None))


def test_a_walk_that_no_longer_takes_the_stand_in_hands_over_to_fvcores_trace():
    """The promise of adapters/__init__.py: a changed walk interface is not a traceback."""
    class Changed:  # a graph whose interface fvcore's walk no longer finds
        pass

    model = torch.nn.Conv2d(3, 4, 3).to_empty(device="meta")
    analysis = JitModelAnalysis(model, (torch.empty(1, 3, 8, 8, device="meta"),))
    assert fvcore_private.walk(analysis, Changed()) is False
