"""The aggregation structure of a DLA variant, read from its recorded forward pass.

The nodes are the tensors the aggregation graphs draw: each stage's input, every residual
block call and aggregation node (root) call, and the calls of a tree's ``downsample`` (a
max-pool) and ``project`` (a projection shortcut) whose outputs a node uses. The edges are
the recorded dataflow: which call produced each input of each block, root, max-pool and
projection. A max-pool or projection becomes a node when its output is first used, so one
that ``forward`` computes but never uses stays out of the graph. Nothing here replays
``AggregationTree.forward``: a change to it changes the recording, and the structure with it;
``tests/test_structure.py`` checks the result against a real forward pass.

Node ids are module paths (``level3.tree1.root``) except the one tensor per stage that no
module of the stage produces: its input, ``<stage>.input`` (the previous level's output).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dla_docs.measure.facts import Measurement
from dla_docs.measure.geometry import IDENTITY, Window, pair
from dla_docs.measure.recording import Call, ModuleCall, Recording
from dla_docs.measure.structure import Edge, Level, ModelStructure, Node, Stage, Totals
from dla_docs.measure.views.windows import window
from dla_docs.zoo.blocks import RESIDUAL_BLOCKS, AggregationNode, AggregationTree
from dla_docs.zoo.variants import get_config

# A tree's own calls that become nodes when their output is used: node kind and the kind of the edge into them.
_SHORTCUT_KINDS = {"downsample": ("downsample", "downsample"), "project": ("project", "projection")}


@dataclass(frozen=True)
class _Conv:
    """What the descriptions say of one recorded convolution."""

    kernel: int
    stride: int
    groups: int
    in_channels: int
    out_channels: int


def _convs(recording: Recording, module_call: ModuleCall) -> list[_Conv]:
    found = []
    for call in recording.calls_in(module_call):
        if call.function != "conv2d":
            continue
        if call.arguments is None:
            raise ValueError(f"{module_call.path}: a convolution was recorded without its arguments")
        out_channels, _, kernel, _ = call.arguments["weight"].shape
        stride = call.arguments["stride"]
        found.append(_Conv(kernel, pair(stride)[0], call.arguments["groups"],
                           recording.shape(call.inputs[0])[1], out_channels))
    return found


def _conv_operation(convs: list[_Conv]) -> str:
    k = convs[0].kernel
    return f"{k}\u00d7{k} conv" if len(convs) == 1 else f"{len(convs)}\u00d7 {k}\u00d7{k} conv"


def _block_operation(module_call: ModuleCall, convs: list[_Conv]) -> str:
    stride = max(c.stride for c in convs)
    groups = max(c.groups for c in convs)
    extras = [f"{groups} groups"] * (groups > 1) + [f"stride {stride}"] * (stride > 1)
    return ", ".join([type(module_call.module).__name__, *extras])


def _pool_operation(calls: list[Call]) -> str:
    (pool,) = [call for call in calls if call.function == "max_pool2d"]
    size = pool.arguments["kernel_size"]
    k = pair(size)[0]
    return f"{k}\u00d7{k} max-pool"


def _adds_first_input(recording: Recording, root: ModuleCall) -> bool:
    """Whether the root adds its first input to its output (a residual root)."""
    return any(call.function in ("add", "add_") and root.inputs[0] in call.inputs[1:]
               for call in recording.calls_in(root))


@dataclass
class _StageBuilder:
    """Collects the nodes and edges of one stage from its module calls."""

    stage: str
    recording: Recording
    measurement: Measurement
    producers: dict[int, str]  # tensor id -> id of the node that produced it (all stages so far)
    pending: dict[int, tuple[str, str, ModuleCall]] = field(default_factory=dict)  # unused max-pools, projections
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def add(self, kind: str, node_id: str, module_call: ModuleCall | None, operation: str, tensor: int,
            window: Window = IDENTITY) -> str:
        path = module_call.path if module_call is not None else None
        count = self.measurement.modules[path] if path else None
        _, channels, height, width = self.recording.shape(tensor)
        number = 1 + sum(n.kind == kind for n in self.nodes)
        self.nodes.append(Node(
            id=node_id, kind=kind, stage=self.stage, module=path, operation=operation, number=number,
            channels=channels, height=height, width=width, stride=self.measurement.image_size // height,
            parameters=count.parameters if count else 0, macs=count.macs if count else 0, window=window,
        ))
        self.producers[tensor] = node_id
        return node_id

    def use(self, tensor: int) -> str:
        """The node producing ``tensor``; a max-pool or projection not used before is drawn now."""
        if tensor in self.pending:
            kind, edge_kind, call = self.pending.pop(tensor)
            source = self.use(call.inputs[0])
            calls = self.recording.calls_in(call)
            operation = _pool_operation(calls) if kind == "downsample" else self._projection(call)
            self.add(kind, call.path, call, operation, tensor, window(self.recording, call))
            self.edges.append(Edge(source, call.path, edge_kind))
        if tensor not in self.producers:
            raise ValueError(f"{self.stage}: a tensor its aggregation tree uses comes from no node of it")
        return self.producers[tensor]

    def _projection(self, call: ModuleCall) -> str:
        conv = _convs(self.recording, call)[0]
        return f"{conv.kernel}\u00d7{conv.kernel} conv {conv.in_channels}\u2192{conv.out_channels} + BN"

    def block(self, call: ModuleCall) -> None:
        """``block(x, shortcut)``: its main input, and its shortcut when that is another tensor."""
        x, *rest = call.inputs
        source = self.use(x)
        extra = self.use(rest[0]) if rest and rest[0] != x else None
        self.add("block", call.path, call, _block_operation(call, _convs(self.recording, call)), call.outputs[0],
                 window(self.recording, call))
        self.edges.append(Edge(source, call.path, "chain"))
        if extra is not None:
            self.edges.append(Edge(extra, call.path, "shortcut"))

    def root(self, call: ModuleCall) -> None:
        """``root(*inputs)``: concatenated, convolved, and the first input added when residual."""
        sources = [self.use(tensor) for tensor in call.inputs]
        residual = _adds_first_input(self.recording, call)
        conv = _convs(self.recording, call)[0]
        operation = (f"concat {len(sources)} \u2192 {conv.kernel}\u00d7{conv.kernel} conv {conv.in_channels}"
                     f"\u2192{conv.out_channels} + BN" + (" + residual" if residual else ""))
        self.add("root", call.path, call, operation, call.outputs[0], window(self.recording, call))
        self.edges.extend(Edge(s, call.path, "aggregation", i) for i, s in enumerate(sources))
        if residual:
            self.edges.append(Edge(sources[0], call.path, "residual"))


def _stage(recording: Recording, index: int, measurement: Measurement, producers: dict[int, str],
           made_by: dict[int, str]) -> Stage:
    """The stage whose tree is ``recording.modules[index]``, from the module calls inside it."""
    stage_call = recording.modules[index]
    name = stage_call.path
    b = _StageBuilder(name, recording, measurement, producers)
    entry = stage_call.inputs[0]
    previous = producers.get(entry)  # the previous stage's output node, if a stage produced it
    b.add("input", f"{name}.input", None, f"output of {made_by[entry]}", entry)
    if previous is not None:
        b.edges.append(Edge(previous, f"{name}.input", "chain"))
    inside = {index}
    for position in range(index + 1, len(recording.modules)):  # in the order they started
        call = recording.modules[position]
        if call.parent not in inside:  # the stage's descendants come first, then the rest
            break
        inside.add(position)
        if not isinstance(recording.modules[call.parent].module, AggregationTree):
            continue  # inside a block, a root or a projection
        if isinstance(call.module, AggregationTree) or call.outputs[0] in call.inputs:  # a subtree; an identity
            continue
        role = call.path.rsplit(".", 1)[-1]  # the tree's attribute holding the module
        if isinstance(call.module, RESIDUAL_BLOCKS):
            b.block(call)
        elif isinstance(call.module, AggregationNode):
            b.root(call)
        elif role in _SHORTCUT_KINDS:
            b.pending[call.outputs[0]] = (*_SHORTCUT_KINDS[role], call)
        else:
            raise TypeError(f"{call.path}: unexpected {type(call.module).__name__} inside an aggregation tree")
    output = b.use(stage_call.outputs[0])
    into_output = {e.source for e in b.edges if e.target == output and e.kind == "aggregation"}
    level = next(lm for lm in measurement.levels if lm.name == name)
    out = next(node for node in b.nodes if node.id == output)
    return Stage(
        name=name, stride=out.stride, in_channels=recording.shape(entry)[1], channels=out.channels,
        height=level.height, width=level.width, depth=stage_call.module.depth,
        aggregates_input=any(e.source == f"{name}.input" and e.kind == "downsample" and e.target in into_output
                             for e in b.edges),
        parameters=level.parameters, macs=level.macs, output=output, nodes=tuple(b.nodes), edges=tuple(b.edges),
    )


def _levels(recording: Recording, m: Measurement, stages: dict[str, Stage]) -> tuple[Level, ...]:
    """The IDA chain: stem, levels 0-5 (trees for 2-5), then global pool + classifier."""
    chain = []
    for name in ("base_layer", *(lm.name for lm in m.levels)):
        call = recording.module_call(name)
        cost = m.parts[name]
        _, channels, height, width = recording.shape(call.outputs[0])
        if name in stages:
            depth = call.module.depth
            chain.append(Level(name, "tree", f"tree, depth {depth}", m.image_size // height, channels, height,
                               width, depth, stages[name].aggregates_input, cost.parameters, cost.macs))
            continue
        convs = _convs(recording, call)
        chain.append(Level(name, "stem" if name == "base_layer" else "conv", _conv_operation(convs),
                           m.image_size // height, channels, height, width, len(convs), False, cost.parameters,
                           cost.macs, window(recording, call)))
    head_params = m.parts["global_pool"].parameters + m.parts["fc"].parameters
    head_macs = m.parts["global_pool"].macs + m.parts["fc"].macs
    classes = recording.shape(recording.module_call("fc").outputs[0])[1]
    chain.append(Level("fc", "head", "pool + fc", m.levels[-1].stride, classes, 1, 1, 1, False, head_params,
                       head_macs))
    return tuple(chain)


def aggregation_structure(variant: str, recording: Recording, measurement: Measurement) -> ModelStructure:
    """The structure of ``variant`` from the recording of its model; costs from ``measurement``."""
    config = get_config(variant)
    made_by = {call.outputs[0]: call.path for call in recording.modules if call.parent == 0 and call.outputs}
    producers: dict[int, str] = {}
    stages = [_stage(recording, i, measurement, producers, made_by) for i, call in enumerate(recording.modules)
              if call.parent == 0 and isinstance(call.module, AggregationTree)]
    return ModelStructure(
        variant=variant, title=config.title or variant, block=config.block, image_size=measurement.image_size,
        residual_root=config.residual_root, levels=_levels(recording, measurement, {s.name: s for s in stages}),
        stages=tuple(stages),
        totals=Totals(parameters=measurement.parameters, macs=measurement.macs,
                      blocks=sum(len(s.of_kind("block")) for s in stages),
                      roots=sum(len(s.of_kind("root")) for s in stages)),
    )
