"""dla-docs: measured, verified documentation for the Deep Layer Aggregation family.

``import dla_docs`` is torch-free; the model factory, the preprocessing (and torch) load on
first use.
"""

import sys as _sys

if _sys.argv[:1] == ["-m"]:  # `python -m dla_docs`: the working folder leaves the path before any import
    import os as _os

    _here = _os.path.realpath(_os.getcwd())
    _sys.path[:] = [_p for _p in _sys.path if _p and _os.path.realpath(_p) != _here]

from dla_docs.zoo.variants import VARIANTS, VariantConfig, list_models  # noqa: E402

__all__ = ["VARIANTS", "VariantConfig", "create_model", "create_transform", "data_config", "imagenet_classes",
           "list_models"]
__version__ = "0.1.0"

_LAZY = {
    "create_model": "dla_docs.zoo.pretrained",
    "create_transform": "dla_docs.zoo.data",
    "data_config": "dla_docs.zoo.data",
    "imagenet_classes": "dla_docs.zoo.data",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dla_docs' has no attribute {name!r}")
