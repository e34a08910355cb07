"""The level shapes of a recorded forward pass: the output of each level's module call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dla_docs.measure.facts import LevelMeasurement
from dla_docs.measure.recording import Recording


def levels(recording: Recording, names: Iterable[str], image_size: int, parameters: Mapping[str, int],
           macs: Mapping[str, int]) -> list[LevelMeasurement]:
    """Each named level's output (channels, height, width, stride on a ``image_size`` image) and cost."""
    found = []
    for name in names:
        _, channels, height, width = recording.shape(recording.module_call(name).outputs[0])
        found.append(LevelMeasurement(name, image_size // height, channels, height, width,
                                      parameters[name], macs[name]))
    return found
