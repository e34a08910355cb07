"""Shared fixtures: project data (copied into tests/data, never read from ../shared)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def reference() -> dict:
    """The reference (timm) state dicts: parameter count and [key, shape, dtype] per variant."""
    return json.loads((DATA / "dla_state_dicts.json").read_text())


@pytest.fixture(scope="session")
def seed_flops() -> dict[str, int]:
    """FLOPs figures exactly as the seed page published them."""
    text = (DATA / "seed_dla.md").read_text()
    return {name: int(flops) for name, flops in re.findall(r"- Name: (\S+)\nMetadata:\nFLOPs: (\d+)", text)}


@pytest.fixture(scope="session")
def measurements(tmp_path_factory):
    """Every variant measured once at 224 (cold, in parallel) for the whole session."""
    from dla_docs import list_models
    from dla_docs.cache import MeasurementCache
    from dla_docs.runner import measure_many

    cache = MeasurementCache(tmp_path_factory.mktemp("measure-cache"))
    return measure_many(list_models(), 224, cache)
