"""Every private torch and fvcore name the measurement uses, in one adapter module per library.

:mod:`.torch_private`, :mod:`.jit_tracer` (the layout of the JIT tracer's nodes) and
:mod:`.fvcore_private` hold them; each use is commented with the
public path it stands in for, and falls back to that path where one exists. They were
checked against the versions below, and a private name is used only where the installed
version is the checked one (:func:`checked`: chosen by version, not by probing); otherwise
the public path runs: torch's own meta kernels, FlopCounterMode around a forward pass,
fvcore's public handle tables and its own JIT trace. :func:`version_note` says so in one line
(never raising). The adapters import no application module. This module is torch-free.
"""

from __future__ import annotations

import functools
from importlib import metadata

CHECKED_VERSIONS = {"torch": "2.13.0", "fvcore": "0.1.5.post20221221"}


def _release(version: str) -> str:
    """``2.13.0+cpu`` -> ``2.13.0``: a local build tag changes no interface."""
    return version.split("+", 1)[0]


def _installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "(not installed)"


@functools.cache
def checked(name: str) -> bool:
    """Whether the installed ``name`` ("torch" or "fvcore") is the version its private names
    were checked against (a local build tag aside): only then are they used."""
    return _release(_installed(name)) == CHECKED_VERSIONS[name]


def version_note() -> str | None:
    """One line when the installed torch or fvcore is not the version the adapters were checked
    against, else ``None``."""
    differing = []
    for name, checked in CHECKED_VERSIONS.items():
        installed = _installed(name)
        if _release(installed) != checked:
            differing.append(f"{name} {installed} (checked: {checked})")
    if not differing:
        return None
    return (f"measuring with {', '.join(differing)}: the private torch/fvcore interfaces it uses may have "
            "changed, so the public paths run instead (fvcore's own trace, torch's own kernels)")
