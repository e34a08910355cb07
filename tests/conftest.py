"""Shared fixtures: project data (copied into tests/data, never read from ../shared)."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from pathlib import Path

import pytest

# Under CI, commands do not read the store (see dla_docs.store.open_store); the
# tests pre-fill stores on purpose, so they run as on a developer's machine. The CI rule
# itself is tested with CI set explicitly.
os.environ.pop("CI", None)

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


_SESSION_TMP: list = []  # the session's tmp_path_factory (set before any test runs)


@pytest.fixture(scope="session", autouse=True)
def _session_tmp(tmp_path_factory):
    _SESSION_TMP.append(tmp_path_factory)


def made_once(name: str, make) -> Path:
    """The folder ``make(folder)`` filled, made once per test run: under pytest-xdist the first
    worker to ask makes it in the run's shared temporary folder (under a file lock) and the
    others wait for it, so the workers share the work, never a folder they write to."""
    from filelock import FileLock

    factory = _SESSION_TMP[0]
    if "PYTEST_XDIST_WORKER" not in os.environ:
        folder = factory.mktemp(name)
        make(folder)
        return folder
    shared = factory.getbasetemp().parent  # one per run, beside every worker's own basetemp
    folder, done = shared / name, shared / f"{name}.done"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


@functools.cache
def session_store() -> tuple[Path, dict]:
    """The sealed store every variant was measured into once at 224 (cold, by the measuring
    server), and the measurements: made by whichever test asks first, so that no test depends
    on another having run before it. Each pytest-xdist worker gets its own copy of one store
    measured once per run (tests write drawings into it)."""
    import shutil

    from dla_docs import list_models, run
    from dla_docs.config import load_settings

    measured = []

    def measure(folder: Path) -> None:
        settings = dataclasses.replace(load_settings(PROJECT), cache_dir=folder)
        measured.append(run.measure(settings, list_models()).measurements)

    cache = made_once("measure-cache", measure)
    if "PYTEST_XDIST_WORKER" in os.environ:  # the run's shared folder: this worker's own copy
        cache = shutil.copytree(cache, _SESSION_TMP[0].mktemp("measure-cache"), dirs_exist_ok=True)
        measured = [run.measure(dataclasses.replace(load_settings(PROJECT), cache_dir=cache),
                                list_models()).measurements]
    return cache, measured[0]


@pytest.fixture(scope="session")
def measurements():
    """Every variant measured once at 224 for the whole session (see :func:`session_store`)."""
    return session_store()[1]


@pytest.fixture(scope="session")
def structures(measurements):
    """Every variant's aggregation structure, as ``run.measure`` reads it from the session's store."""
    from dla_docs import list_models, run
    from dla_docs.config import load_settings

    return run.measure(session_settings(load_settings(PROJECT)), list_models()).structures


def session_settings(settings):
    """``settings`` with the session's store, which holds every measurement."""
    return dataclasses.replace(settings, cache_dir=session_store()[0])


def render_project(settings):
    """What ``dla-docs build`` renders for ``settings``'s project (:func:`dla_docs.run.render`:
    nothing is written but the store)."""
    from dla_docs import run

    return run.render(settings)


def fill_cache(folder: Path) -> None:
    """Give ``folder`` the session's cache (entries and the key that seals them)."""
    import shutil

    shutil.copytree(session_store()[0], folder, dirs_exist_ok=True)


PROJECT_FILES = ("pyproject.toml", "mkdocs.yml", "templates", "data", "CITATION.cff")


def copy_project(target: Path, measurements=None) -> Path:
    """A throw-away copy of this project's inputs (no docs/, no site/), its cache pre-filled."""
    import shutil


    target.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy2(source, target / name)
    if measurements:
        fill_cache(target / ".dla-docs-cache")
    return target


@pytest.fixture(scope="session")
def generated(measurements):
    """Every docs/ file of this project, rendered in memory from the session's measurements."""
    from dla_docs.config import load_settings

    return render_project(session_settings(load_settings(PROJECT)))


@pytest.fixture(scope="session")
def built_project(tmp_path_factory, measurements):
    """A copy of the project after a real `dla-docs build` (docs/ and site/ written)."""
    from dla_docs.cli import main

    root = copy_project(tmp_path_factory.mktemp("built") / "project", measurements)
    assert main(["--project", str(root), "build"]) == 0
    return root


def write_hub_cache(cache: Path, reference: dict, variants=None) -> Path:
    """A Hugging Face Hub cache holding ``timm/<variant>.in1k/model.safetensors`` for ``variants``.

    The layout is huggingface_hub's own (``models--timm--dla34.in1k/refs/main`` naming a
    snapshot folder), so ``hf_hub_download(..., local_files_only=True)`` finds the files as if
    they had been downloaded. The tensors are generated from the *reference* (timm) layout,
    not from our models: seeded He-normal convolutions and identity BatchNorm statistics, so
    a forward pass gives finite scores.
    """
    import torch
    from safetensors.torch import save_file

    revision = "0" * 40
    for variant in variants or list(reference):
        snapshot = cache / f"models--timm--{variant}.in1k" / "snapshots" / revision
        snapshot.mkdir(parents=True, exist_ok=True)
        (snapshot.parents[1] / "refs").mkdir(exist_ok=True)
        (snapshot.parents[1] / "refs" / "main").write_text(revision)
        generator = torch.Generator().manual_seed(sum(map(ord, variant)))
        tensors = {key: generated_tensor(key, shape, dtype, generator)
                   for key, shape, dtype in reference[variant]["state_dict"]}
        save_file(tensors, str(snapshot / "model.safetensors"))
    return cache


def generated_tensor(key: str, shape: list[int], dtype: str, generator):
    import torch

    if dtype != "float32":
        return torch.zeros(shape, dtype=getattr(torch, dtype))  # num_batches_tracked
    if len(shape) == 4:
        fan_out = shape[0] * shape[2] * shape[3]
        return torch.randn(shape, generator=generator) * (2.0 / fan_out) ** 0.5
    if key.endswith(("running_var", "weight")):
        return torch.ones(shape)
    return torch.zeros(shape)  # biases, running means


@pytest.fixture(scope="session")
def hub_cache(tmp_path_factory, reference) -> Path:
    """One generated Hub cache with all twelve weights, shared by the whole run (read only)."""
    return made_once("hf-cache", lambda folder: write_hub_cache(folder, reference))


@pytest.fixture
def offline_hub(hub_cache, monkeypatch) -> Path:
    """huggingface_hub pointed at the generated cache, offline (it reads these at import)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return hub_cache


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` keyed by relative POSIX path (``{}`` if absent)."""
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
