"""Read the aggregation structure of a variant from its live model (torch).

Node ids stand in for tensors while :meth:`AggregationTree.forward` is replayed symbolically;
``tests/test_structure.py`` checks that replay against a real forward pass."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from dla_docs.measure.core import measure_variant
from dla_docs.measure.geometry import IDENTITY, Window
from dla_docs.measure.windows import module_window, traced_window
from dla_docs.measure.facts import Measurement
from dla_docs.measure.structure import Edge, Level, ModelStructure, Node, Stage, Totals
from dla_docs.zoo.blocks import RESIDUAL_BLOCKS, AggregationNode, AggregationTree
from dla_docs.zoo.factory import create_uninitialised
from dla_docs.zoo.network import DLA
from dla_docs.zoo.variants import get_config

# -- the symbolic replay of AggregationTree.forward ------------------------------------------


@dataclass
class _Value:
    """A tensor of the replay: produced by node ``id`` (created on first use if ``pending``)."""

    id: str
    channels: int
    stride: int
    pending: tuple[str, str, nn.Module, "_Value"] | None = None  # (kind, edge kind, module, source)


@dataclass
class _StageBuilder:
    """Collects the nodes and edges of one stage while its forward pass is replayed."""

    stage: str
    modules: dict[nn.Module, str]
    measurement: Measurement
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def add(self, kind: str, module: nn.Module | None, node_id: str, operation: str,
            channels: int, stride: int, window: Window = IDENTITY) -> str:
        path = self.modules[module] if module is not None else None
        count = self.measurement.modules[path] if path else None
        side = self.measurement.image_size // stride
        number = 1 + sum(n.kind == kind for n in self.nodes)
        self.nodes.append(Node(
            id=node_id, kind=kind, stage=self.stage, module=path, operation=operation,
            number=number, channels=channels, height=side, width=side, stride=stride,
            parameters=count.parameters if count else 0, macs=count.macs if count else 0,
            window=window,
        ))
        return node_id

    def use(self, value: _Value) -> str:
        """The node producing ``value``; a pending max-pool or projection is drawn now.

        Max-pools and projections are only created when something consumes their output,
        so a downsample that ``forward`` computes but never uses stays out of the graph.
        """
        if value.pending is not None:
            kind, edge_kind, module, source = value.pending
            source_id = self.use(source)
            window = module_window(module) if kind == "downsample" else traced_window(module)
            self.add(kind, module, value.id, _describe(module), value.channels, value.stride, window)
            self.edges.append(Edge(source_id, value.id, edge_kind))
            value.pending = None
        return value.id


def _convs(module: nn.Module) -> list[nn.Conv2d]:
    return [m for m in module.modules() if isinstance(m, nn.Conv2d)]


def _describe(module: nn.Module) -> str:
    """The operation of a max-pool, projection or residual block, in words."""
    if isinstance(module, nn.MaxPool2d):
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        return f"{k}\u00d7{k} max-pool"
    convs = _convs(module)
    if isinstance(module, RESIDUAL_BLOCKS):
        stride = max(c.stride[0] for c in convs)
        groups = max(c.groups for c in convs)
        extras = [f"{groups} groups"] * (groups > 1) + [f"stride {stride}"] * (stride > 1)
        return ", ".join([type(module).__name__, *extras])
    conv = convs[0]
    return f"1\u00d71 conv {conv.in_channels}\u2192{conv.out_channels} + BN"


def _downsample(tree: AggregationTree, path: str, x: _Value) -> _Value:
    if isinstance(tree.downsample, nn.Identity):
        return x
    stride = tree.downsample.stride
    factor = stride if isinstance(stride, int) else stride[0]
    return _Value(f"{path}.downsample", x.channels, x.stride * factor,
                  ("downsample", "downsample", tree.downsample, x))


def _project(tree: AggregationTree, path: str, bottom: _Value) -> _Value:
    if isinstance(tree.project, nn.Identity):
        return bottom
    channels = _convs(tree.project)[-1].out_channels
    return _Value(f"{path}.project", channels, bottom.stride,
                  ("project", "projection", tree.project, bottom))


def _block(b: _StageBuilder, block: nn.Module, path: str, x: _Value, shortcut: _Value | None) -> _Value:
    """A residual block: ``block(x, shortcut)``; ``shortcut=None`` means ``x`` itself."""
    convs = _convs(block)
    value = _Value(path, convs[-1].out_channels, x.stride * max(c.stride[0] for c in convs))
    source = b.use(x)
    extra = b.use(shortcut) if shortcut is not None and shortcut is not x else None
    b.add("block", block, path, _describe(block), value.channels, value.stride, traced_window(block, 2))
    b.edges.append(Edge(source, path, "chain"))
    if extra is not None:
        b.edges.append(Edge(extra, path, "shortcut"))
    return value


def _root(b: _StageBuilder, root: AggregationNode, path: str, inputs: list[_Value]) -> _Value:
    """``root(*inputs)``: concatenate, 1x1 conv + BN, add ``inputs[0]`` if residual."""
    strides = {v.stride for v in inputs}
    if len(strides) != 1:
        raise ValueError(f"{path} concatenates tensors of different strides {sorted(strides)}")
    operation = (f"concat {len(inputs)} \u2192 1\u00d71 conv {root.conv.in_channels}"
                 f"\u2192{root.conv.out_channels} + BN" + (" + residual" if root.residual else ""))
    sources = [b.use(v) for v in inputs]
    b.add("root", root, path, operation, root.conv.out_channels, inputs[0].stride,
          traced_window(root, len(inputs)))
    b.edges.extend(Edge(s, path, "aggregation", i) for i, s in enumerate(sources))
    if root.residual:
        b.edges.append(Edge(sources[0], path, "residual"))
    return _Value(path, root.conv.out_channels, inputs[0].stride)


def _call(b: _StageBuilder, module: nn.Module, path: str, x: _Value, shortcut: _Value | None) -> _Value:
    """``module(x, shortcut)`` for a block or a subtree (a subtree ignores ``shortcut``)."""
    if isinstance(module, AggregationTree):
        return _tree(b, module, path, x, None)
    if isinstance(module, RESIDUAL_BLOCKS):
        return _block(b, module, path, x, shortcut)
    raise TypeError(f"{path}: unexpected {type(module).__name__} inside an aggregation tree")


def _tree(b: _StageBuilder, tree: AggregationTree, path: str, x: _Value,
          children: list[_Value] | None) -> _Value:
    """Mirror of :meth:`AggregationTree.forward`, line for line, on :class:`_Value`s."""
    children = [] if children is None else children
    bottom = _downsample(tree, path, x)
    shortcut = _project(tree, path, bottom)
    if tree.level_root:
        children.append(bottom)
    x1 = _call(b, tree.tree1, f"{path}.tree1", x, shortcut)
    if tree.depth == 1:
        x2 = _call(b, tree.tree2, f"{path}.tree2", x1, None)
        return _root(b, tree.root, f"{path}.root", [x2, x1, *children])
    children.append(x1)
    return _tree(b, tree.tree2, f"{path}.tree2", x1, children)


# -- assembling the structure ----------------------------------------------------------------


def _stage(model: DLA, index: int, previous_output: str | None, measurement: Measurement,
           paths: dict[nn.Module, str]) -> Stage:
    info, before = model.level_info[index], model.level_info[index - 1]
    tree: AggregationTree = getattr(model, info.name)
    builder = _StageBuilder(info.name, paths, measurement)
    entry = _Value(f"{info.name}.input", before.channels, before.stride)
    builder.add("input", None, entry.id, f"output of {before.name}", entry.channels, entry.stride)
    if previous_output is not None:
        builder.edges.append(Edge(previous_output, entry.id, "chain"))
    out = _tree(builder, tree, info.name, entry, None)
    level = measurement.levels[index]
    return Stage(
        name=info.name, stride=out.stride, in_channels=before.channels, channels=out.channels,
        height=level.height, width=level.width, depth=tree.depth,
        aggregates_input=tree.level_root, parameters=level.parameters, macs=level.macs,
        output=out.id, nodes=tuple(builder.nodes), edges=tuple(builder.edges),
    )


def _conv_operation(module: nn.Module) -> str:
    convs = _convs(module)
    k = convs[0].kernel_size[0]
    return f"{k}\u00d7{k} conv" if len(convs) == 1 else f"{len(convs)}\u00d7 {k}\u00d7{k} conv"


def _levels(model: DLA, m: Measurement) -> tuple[Level, ...]:
    """The IDA chain: stem, levels 0-5 (trees for 2-5), then global pool + classifier."""
    stem = m.parts["base_layer"]
    side = m.image_size
    chain = [Level("base_layer", "stem", _conv_operation(model.base_layer), 1,
                   _convs(model.base_layer)[0].out_channels, side, side,
                   len(_convs(model.base_layer)), False, stem.parameters, stem.macs,
                   traced_window(model.base_layer))]
    for lm in m.levels:
        module = getattr(model, lm.name)
        is_tree = isinstance(module, AggregationTree)
        chain.append(Level(
            lm.name, "tree" if is_tree else "conv",
            f"tree, depth {module.depth}" if is_tree else _conv_operation(module),
            lm.stride, lm.channels, lm.height, lm.width,
            module.depth if is_tree else len(_convs(module)),
            bool(is_tree and module.level_root), lm.parameters, lm.macs,
            None if is_tree else traced_window(module),
        ))
    head_params = m.parts["global_pool"].parameters + m.parts["fc"].parameters
    head_macs = m.parts["global_pool"].macs + m.parts["fc"].macs
    chain.append(Level("fc", "head", "pool + fc", m.levels[-1].stride, model.fc.out_channels, 1, 1,
                       1, False, head_params, head_macs))
    return tuple(chain)


def extract_structure(variant: str, measurement: Measurement | None = None, model: DLA | None = None) -> ModelStructure:
    """Read the aggregation structure of ``variant`` from its model.

    Costs per node come from ``measurement`` (its image size sets the resolutions); without
    one the variant is measured here at 224x224, which takes a second or two for the
    largest variants, so callers drawing many graphs should pass cached measurements.
    """
    config = get_config(variant)
    if measurement is None:
        measurement = measure_variant(variant)
    elif measurement.variant != variant:
        raise ValueError(f"measurement is of {measurement.variant!r}, not {variant!r}")
    model = model if model is not None else create_uninitialised(variant)
    paths = {module: path for path, module in model.named_modules()}
    tree_indices = [i for i, info in enumerate(model.level_info)
                    if isinstance(getattr(model, info.name), AggregationTree)]
    stages: list[Stage] = []
    for index in tree_indices:
        stages.append(_stage(model, index, stages[-1].output if stages else None, measurement, paths))
    return ModelStructure(
        variant=variant, title=config.title or variant, block=config.block,
        image_size=measurement.image_size, residual_root=config.residual_root,
        levels=_levels(model, measurement), stages=tuple(stages),
        totals=Totals(
            parameters=measurement.parameters, macs=measurement.macs,
            blocks=sum(len(s.of_kind("block")) for s in stages),
            roots=sum(len(s.of_kind("root")) for s in stages),
        ),
    )
