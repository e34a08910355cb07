"""Every figure of a variant, as a view of its one recorded inference pass.

:class:`Views` is the table (the way fvcore's ``by_module``/``by_operator``/``total`` read one
analysis): each entry reads :class:`~dla_docs.measure.recording.Recording` and nothing runs the
model again, except the memory view's training step (the one other pass).

=================  =====================================================  ==========================
view               what                                                   module
=================  =====================================================  ==========================
``counts``         fvcore's statistics by module and operator              :mod:`.counts`
``levels``         each level's output shape and cost                      :mod:`.levels`
``structure``      the aggregation structure (nodes, edges, windows)       :mod:`.structure`
``window``         the receptive-field window of one module call           :mod:`.windows`
``memory``         peak memory by batch (inference read from the pass)     :mod:`dla_docs.measure.memory`
``flop_counter``   FlopCounterMode's count per image, by operator          :mod:`...adapters.torch_private`
=================  =====================================================  ==========================

A new view is a function of the recording (and, where it needs parameters, the model) in its
own module here, and one entry below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property

from torch import nn

from dla_docs.measure.analysis_facts import PeakMemory
from dla_docs.measure.facts import LevelMeasurement, Measurement
from dla_docs.measure.geometry import Window
from dla_docs.measure.memory import peak_memory
from dla_docs.measure.recording import ModuleCall, Recording
from dla_docs.measure.structure import ModelStructure
from dla_docs.measure.views.counts import Counts, count
from dla_docs.measure.views.levels import levels
from dla_docs.measure.views.structure import aggregation_structure
from dla_docs.measure.views.windows import window


class Views:
    """The views of ``recording``, the recorded pass of ``model`` (on the meta device) at ``image_size``."""

    def __init__(self, model: nn.Module, recording: Recording, image_size: int) -> None:
        self.model, self.recording, self.image_size = model, recording, image_size

    @cached_property
    def counts(self) -> Counts:
        return count(self.model, self.recording, self.image_size)

    def levels(self, names: Iterable[str], parameters: Mapping[str, int],
               macs: Mapping[str, int]) -> list[LevelMeasurement]:
        return levels(self.recording, names, self.image_size, parameters, macs)

    def structure(self, variant: str, measurement: Measurement) -> ModelStructure:
        return aggregation_structure(variant, self.recording, measurement)

    def window(self, module_call: ModuleCall) -> Window:
        return window(self.recording, module_call)

    @cached_property
    def memory(self) -> PeakMemory:
        return peak_memory(self.model, self.image_size, self.recording.storage_events, self.recording.batch)

    @cached_property
    def flop_counter(self) -> dict[str, int]:
        return self.recording.flop_formulas.per_image(self.recording.batch, self.model, self.image_size)
