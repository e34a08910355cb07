"""The aggregation structure read from each model, proven against a real forward pass.

:mod:`dla_docs.measure.views.structure` reads it from the dataflow of a forward pass recorded on
the meta device; here hooks on every residual block and aggregation node of a real CPU pass
record which tensors they really receive, so a structure that does not follow ``forward`` fails here.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, get_args

import pytest
import torch
from torch import nn

from dla_docs import list_models
from dla_docs.measure.core import measure_facts
from dla_docs.measure.structure import Edge, EdgeKind, NodeKind
from dla_docs.zoo.blocks import RESIDUAL_BLOCKS, AggregationNode, AggregationTree
from dla_docs.zoo.factory import create_uninitialised

VARIANTS = list_models()
TRACE_SIZE = 64  # any multiple of 32 works; small keeps twelve forward passes cheap


@dataclasses.dataclass
class Trace:
    """What a real forward pass did: producers of each root's / block's inputs, and shapes."""

    root_inputs: dict[str, list[str]]
    block_inputs: dict[str, tuple[str, str | None]]
    shapes: dict[str, tuple[int, ...]]


def _producer_hooks(model: nn.Module, producers: dict[int, str], keep: list[torch.Tensor],
                    shapes: dict[str, tuple[int, ...]]) -> list[Any]:
    """Name every tensor by the module that made it: blocks, roots, max-pools, projections."""
    handles = []
    for path, module in model.named_modules():
        produces = isinstance(module, (*RESIDUAL_BLOCKS, AggregationNode, nn.MaxPool2d)) or (
            path.endswith(".project") and not isinstance(module, nn.Identity))
        if not produces:
            continue

        def hook(_m: nn.Module, _args: Any, out: torch.Tensor, path: str = path) -> None:
            producers[id(out)] = path
            shapes[path] = tuple(out.shape)
            keep.append(out)  # a live tensor's id is never reused

        handles.append(module.register_forward_hook(hook))
    return handles


@functools.lru_cache(maxsize=None)
def trace(variant: str) -> Trace:
    """One forward pass of ``variant`` at ``TRACE_SIZE``, hooked (cached: three tests read it)."""
    model = create_uninitialised(variant).eval()
    with torch.no_grad():
        for tensor in model.state_dict().values():
            tensor.zero_()
    producers: dict[int, str] = {}
    keep: list[torch.Tensor] = []
    result = Trace({}, {}, {})
    handles = _producer_hooks(model, producers, keep, result.shapes)
    for path, module in model.named_modules():
        if isinstance(module, AggregationTree) and "." not in path:  # a stage: name its input
            def stage_input(_m: nn.Module, args: tuple, path: str = path) -> None:
                producers[id(args[0])] = f"{path}.input"
                result.shapes[f"{path}.input"] = tuple(args[0].shape)
            handles.append(module.register_forward_pre_hook(stage_input))
        elif isinstance(module, AggregationNode):
            def root_in(_m: nn.Module, args: tuple, path: str = path) -> None:
                result.root_inputs[path] = [producers[id(t)] for t in args]
            handles.append(module.register_forward_pre_hook(root_in))
        elif isinstance(module, RESIDUAL_BLOCKS):
            def block_in(_m: nn.Module, args: tuple, path: str = path) -> None:
                x, shortcut = args[0], (args[1] if len(args) > 1 else None)
                extra = None if shortcut is None or shortcut is x else producers[id(shortcut)]
                result.block_inputs[path] = (producers[id(x)], extra)
            handles.append(module.register_forward_pre_hook(block_in))
    with torch.no_grad():
        model(torch.zeros(1, 3, TRACE_SIZE, TRACE_SIZE))
    for handle in handles:
        handle.remove()
    return result


def _paths(model: nn.Module, kinds: tuple[type, ...]) -> set[str]:
    return {path for path, m in model.named_modules() if isinstance(m, kinds)}


@pytest.mark.parametrize("name", VARIANTS)
def test_root_inputs_equal_a_real_forward_pass(name, structures):
    s, real = structures[name], trace(name)
    read = {n.id: s.stage(n.stage).inputs_of(n.id) for n in s.nodes() if n.kind == "root"}
    assert read == real.root_inputs


@pytest.mark.parametrize("name", VARIANTS)
def test_block_inputs_and_shortcuts_equal_a_real_forward_pass(name, structures):
    s, real = structures[name], trace(name)
    read = {}
    for stage in s.stages:
        for node in stage.of_kind("block"):
            into = [e for e in stage.edges if e.target == node.id]
            main = [e.source for e in into if e.kind == "chain"]
            extra = [e.source for e in into if e.kind == "shortcut"]
            assert len(main) == 1 and len(extra) <= 1, (node.id, into)
            read[node.id] = (main[0], extra[0] if extra else None)
    assert read == real.block_inputs


@pytest.mark.parametrize("name", VARIANTS)
def test_channels_and_strides_equal_a_real_forward_pass(name, structures):
    s, real = structures[name], trace(name)
    for node in s.nodes():
        if node.id in real.shapes:  # every drawn node except unused ones is in the trace
            _, channels, height, width = real.shapes[node.id]
            assert (node.channels, TRACE_SIZE // node.stride) == (channels, height), node.id
    drawn = {n.id for n in s.nodes()}
    assert drawn <= set(real.shapes), drawn - set(real.shapes)


@pytest.mark.parametrize("name", VARIANTS)
def test_blocks_and_roots_are_exactly_the_models_modules(name, structures):
    model = create_uninitialised(name)
    s = structures[name]
    assert {n.id for n in s.nodes() if n.kind == "block"} == _paths(model, RESIDUAL_BLOCKS)
    assert {n.id for n in s.nodes() if n.kind == "root"} == _paths(model, (AggregationNode,))
    assert s.totals.blocks == len(_paths(model, RESIDUAL_BLOCKS))
    assert s.totals.roots == len(_paths(model, (AggregationNode,)))


@pytest.mark.parametrize("name", VARIANTS)
def test_root_inputs_fill_its_convolution(name, structures):
    """Independent of ``forward``: the concatenated widths must equal the 1x1 conv's input."""
    model = create_uninitialised(name)
    s = structures[name]
    for stage in s.stages:
        for root in stage.of_kind("root"):
            module = model.get_submodule(root.id)
            widths = [stage.node(src).channels for src in stage.inputs_of(root.id)]
            assert sum(widths) == module.conv.in_channels, root.id
            assert len(widths) >= 2
            residual = [e for e in stage.edges if e.target == root.id and e.kind == "residual"]
            assert [e.source for e in residual] == ([stage.inputs_of(root.id)[0]] if module.residual else [])


@pytest.mark.parametrize("name", VARIANTS)
def test_only_stages_that_aggregate_their_input_feed_it_to_a_root(name, structures):
    model = create_uninitialised(name)
    for stage in structures[name].stages:
        last = stage.node(stage.output)
        sources = stage.inputs_of(last.id)
        tree = model.get_submodule(stage.name)
        assert (f"{stage.name}.downsample" in sources) == tree.level_root == stage.aggregates_input
        assert len(sources) == 2 + (stage.depth - 1) + stage.aggregates_input


@pytest.mark.parametrize("name", VARIANTS)
def test_node_costs_add_up_to_the_measured_stage(name, structures, measurements):
    s, m = structures[name], measurements[name]
    for stage, level in zip(s.stages, m.levels[2:]):
        assert (stage.name, stage.channels, stage.height) == (level.name, level.channels, level.height)
        assert sum(n.parameters for n in stage.nodes) == level.parameters == stage.parameters
        assert sum(n.macs for n in stage.nodes) == level.macs == stage.macs
        out = stage.node(stage.output)
        assert (out.channels, out.height, out.stride) == (level.channels, level.height, level.stride)
    assert [lv.name for lv in s.levels] == ["base_layer", *(f"level{i}" for i in range(6)), "fc"]
    assert sum(lv.macs for lv in s.levels) == m.macs == s.totals.macs
    assert sum(lv.parameters for lv in s.levels) == m.parameters


@pytest.mark.parametrize("name", VARIANTS)
def test_graph_is_well_formed(name, structures):
    s = structures[name]
    ids = [n.id for n in s.nodes()]
    assert len(ids) == len(set(ids))
    assert {n.kind for n in s.nodes()} <= set(get_args(NodeKind))
    known = set(ids)
    for stage in s.stages:
        own = {n.id for n in stage.nodes}
        assert all(n.stage == stage.name and n.id.startswith(stage.name + ".") for n in stage.nodes)
        for edge in stage.edges:
            assert edge.kind in get_args(EdgeKind)
            assert edge.source in known and edge.target in own, edge
            assert (edge.index is not None) == (edge.kind == "aggregation")
    chain_in = [e.source for st in s.stages for e in st.edges if e.target == f"{st.name}.input"]
    assert chain_in == [st.output for st in s.stages[:-1]]  # each stage feeds the next


def test_known_shape_of_dla34_level3(structures):
    """A hand-checked example from the paper's figure: DLA-34's stage 3 tree of depth 2."""
    stage = structures["dla34"].stage("level3")
    assert stage.inputs_of("level3.tree2.root") == [
        "level3.tree2.tree2", "level3.tree2.tree1", "level3.downsample", "level3.tree1.root",
    ]
    assert stage.inputs_of("level3.tree1.root") == ["level3.tree1.tree2", "level3.tree1.tree1"]
    project = stage.node("level3.tree1.project")
    assert (project.channels, project.height, project.operation) == (128, 28, "1\u00d71 conv 64\u2192128 + BN")


def test_a_structure_measured_again_is_the_stored_one(structures):
    assert measure_facts("dla46_c").structure == structures["dla46_c"]


def test_a_node_or_edge_of_an_unknown_kind_is_refused(structures):
    node = structures["dla34"].stage("level3").nodes[0]
    with pytest.raises(ValueError, match="Node of unknown kind 'pool'"):
        dataclasses.replace(node, kind="pool")
    with pytest.raises(ValueError, match="Edge of unknown kind 'skip'"):
        Edge("a", "b", "skip")
