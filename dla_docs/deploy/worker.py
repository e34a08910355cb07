"""The deploy tasks of the measuring server's workers (:mod:`dla_docs.measure.server`).

Importing this module imports torch's ONNX exporter, onnx, onnxscript and onnxruntime, once,
in the server before it forks its workers. Each task answers plain JSON: its facts, and the
manifest of the code they depend on (the zoo and this subpackage, see :func:`deploy_code`).
"""

from __future__ import annotations

import warnings

# torch.export's own pytree deprecation, raised inside torch on every export: not the reader's concern
warnings.filterwarnings("ignore", category=FutureWarning, module=r"copyreg|torch\..*")

import onnx  # noqa: E402, F401 -- imported before the workers fork
import onnxruntime  # noqa: E402, F401
import onnxscript  # noqa: E402, F401
import torch.onnx  # noqa: E402, F401

from dla_docs.deploy.checks import deploy_facts, release_memory  # noqa: E402
from dla_docs.deploy.latency import latency  # noqa: E402

CODE_PARTS = ("zoo/", "deploy/")  # what the deploy facts depend on: the models and the export code


def deploy_code() -> dict[str, str]:
    """``{path inside the package: SHA-256}`` of the loaded zoo and deploy modules."""
    from dla_docs.store import loaded_code

    return {path: digest for path, digest in loaded_code().items() if path.startswith(CODE_PARTS)}


def _deploy(name: str, image_size: int, options: dict) -> dict:
    facts = deploy_facts(name, image_size, options["workdir"])
    release_memory()  # the model, its program and the ONNX session hold cycles: freed before the next variant
    return {"facts": facts, "code": deploy_code()}


def _latency(name: str, image_size: int, options: dict) -> dict:
    facts = latency(name, image_size, options["workdir"], int(options.get("batch", 1)))
    release_memory()
    return {"facts": facts}


TASKS = {"deploy": _deploy, "latency": _latency}
