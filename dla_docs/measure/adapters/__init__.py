"""Every private torch and fvcore name the measurement uses, in one adapter module per library.

:mod:`.torch_private` and :mod:`.fvcore_private` hold them; each use is commented with the
public path it stands in for, and falls back to that path where one exists. They were
checked against the versions below; :func:`version_note` says (in one line, never raising)
when the installed ones differ. This module is torch-free.
"""

from __future__ import annotations

from importlib import metadata

CHECKED_VERSIONS = {"torch": "2.13.0", "fvcore": "0.1.5.post20221221"}


def _release(version: str) -> str:
    """``2.13.0+cpu`` -> ``2.13.0``: a local build tag changes no interface."""
    return version.split("+", 1)[0]


def version_note() -> str | None:
    """One line when the installed torch or fvcore is not the version the adapters were checked
    against, else ``None``."""
    differing = []
    for name, checked in CHECKED_VERSIONS.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "(not installed)"
        if _release(installed) != checked:
            differing.append(f"{name} {installed} (checked: {checked})")
    if not differing:
        return None
    return (f"measuring with {', '.join(differing)}: the private torch/fvcore interfaces it uses may have "
            "changed; where one no longer fits, fvcore's own trace or torch's own kernels take over")
