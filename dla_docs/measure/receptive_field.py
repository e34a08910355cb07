"""Theoretical receptive fields through the aggregation structure (IDA and HDA).

Pure arithmetic on :class:`~dla_docs.measure.structure.ModelStructure`, no torch: every
node's window (read from its recorded calls by :mod:`dla_docs.measure.views.windows`) is
composed with the receptive field of each of its inputs, and the paths that meet at a node
are joined by their hull, so each side of a window is the max over all paths of the
aggregation tree. Results are in
input pixels: ``size`` is the side of the square receptive field, ``stride`` the step
between neighbouring output pixels, ``offset`` the centre of output pixel 0's field (a
negative or half-pixel offset is normal: padding and 2x2 pooling shift it).
"""

from __future__ import annotations

from dla_docs.measure.analysis_facts import ReceptiveField, ReceptiveFields
from dla_docs.measure.geometry import IDENTITY, Window, hull_of
from dla_docs.measure.structure import ModelStructure

# Edges added to their target's output pixel for pixel (the target's window does not apply).
_ADDED_EDGES = frozenset({"shortcut", "residual"})


def _field(name: str, window: Window) -> ReceptiveField:
    return ReceptiveField(name, window.stride, window.size, window.centre)


def node_windows(structure: ModelStructure) -> dict[str, Window]:
    """The receptive field of every node of every stage, as a window on the input image."""
    fields: dict[str, Window] = {}
    previous = IDENTITY
    for level in structure.levels:
        if level.window is not None:  # stem and convolution levels: a plain chain
            previous = previous.then(level.window)
        if level.kind != "tree":
            continue
        stage = structure.stage(level.name)
        incoming: dict[str, list] = {}
        for edge in stage.edges:
            incoming.setdefault(edge.target, []).append(edge)
        for node in stage.nodes:  # nodes are listed after the nodes they read
            windows = [fields[e.source] if e.kind in _ADDED_EDGES else fields[e.source].then(node.window)
                       for e in incoming.get(node.id, []) if e.source in fields]
            if node.kind == "input" and not incoming.get(node.id):
                windows = [previous.then(node.window)]
            if not windows:
                raise ValueError(f"{node.id} has no input in the structure")
            fields[node.id] = hull_of(windows)
        previous = fields[stage.output]
    return fields


def receptive_fields(structure: ModelStructure) -> ReceptiveFields:
    """Receptive fields of the level outputs and of every aggregation node."""
    nodes = node_windows(structure)
    levels = []
    previous = IDENTITY
    for level in structure.levels:
        if level.kind == "head":
            continue
        if level.kind == "tree":
            previous = nodes[structure.stage(level.name).output]
        else:
            previous = previous.then(level.window)
        levels.append(_field(level.name, previous))
    roots = [_field(node.id, nodes[node.id]) for node in structure.nodes() if node.kind == "root"]
    return ReceptiveFields(levels, roots)
