"""One variant's deployability, measured: ``torch.export``, ONNX and ONNX Runtime, ``channels_last``.

:func:`deploy_facts` runs in a measuring worker (torch, onnx, onnxscript and onnxruntime
imported there); it returns plain JSON data, the same on every run on one machine except for
the measured errors' last digits. Every comparison is against the eager model's output on the
same seeded input (:mod:`dla_docs.deploy.weights`), by the rule of :mod:`dla_docs.deploy`:
``relative = max |output - eager| / max |eager|``, which must be at most :data:`TOLERANCE`.

A step that raises is a fact, not a failure of the command: it is recorded with the error's
first line and the operator it names (``aten::...``, ``aten.<op>`` or a ``namespace::op``).
"""

from __future__ import annotations

import gc
import os
import re
from pathlib import Path

import torch
from torch import nn

from dla_docs.deploy.onnx_registry import forget_last_match, registry_built_once
from dla_docs.deploy.rules import BATCHES, TOLERANCE, relative_error
from dla_docs.deploy.weights import calibrated_model, sample_input, save_weights

FAULT_ENV = "DLA_DOCS_DEPLOY_FAULT"  # test seam: variants whose model calls an op no exporter knows
EXPORTER = "torch.onnx.export(dynamo=True)"  # of the non-strict torch.export program
_OPERATOR = re.compile(r"\b([a-z_]+(?:::|\.)[A-Za-z_][\w.]*)")
_KNOWN_NAMESPACES = ("aten", "prims", "dla_docs_fault", "torchvision", "onnx")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from, outermost first."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _line(exc: BaseException) -> str:
    text = _ANSI.sub("", str(exc))
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def first_line(exc: BaseException) -> str:
    """The first line of the innermost error (the outer ones of torch's exporter only say which
    step failed), with its type, at most 300 characters."""
    inner = _chain(exc)[-1]
    return f"{type(inner).__name__}: {_line(inner)}"[:300]


def operator_named(exc: BaseException) -> str | None:
    """The operator an export error names, when it names one, as ``namespace::name``."""
    for error in reversed(_chain(exc)):
        for match in _OPERATOR.finditer(_ANSI.sub("", str(error))):
            op = match.group(1)
            namespace, _, rest = op.replace("::", ".").partition(".")
            if namespace in _KNOWN_NAMESPACES and rest:
                name = rest.split(".")[0]
                return f"{namespace}::{name}"
    return None


def _failed(exc: BaseException) -> dict:
    return {"ok": False, "error": first_line(exc), "operator": operator_named(exc)}


def _compare(output: torch.Tensor, eager: torch.Tensor) -> dict:
    max_abs = float((output.float() - eager).abs().max())
    relative = relative_error(max_abs, float(eager.abs().max()))
    return {"ok": relative <= TOLERANCE, "max_abs": max_abs, "relative": relative}


# -- the fault seam -------------------------------------------------------------------------

_fault_op = None


def _faulty(model: nn.Module) -> nn.Module:
    """``model`` followed by ``dla_docs_fault::identity``, a custom operator that torch.export
    can trace (it has a fake kernel) but no ONNX translation exists for: the failure a variant
    using an unsupported operator would show. Used only when :data:`FAULT_ENV` names the variant."""
    global _fault_op
    if _fault_op is None:
        @torch.library.custom_op("dla_docs_fault::identity", mutates_args=())
        def identity(x: torch.Tensor) -> torch.Tensor:
            return x.clone()

        @identity.register_fake
        def _(x: torch.Tensor) -> torch.Tensor:
            return torch.empty_like(x)

        _fault_op = identity

    class Faulty(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return _fault_op(self.inner(x))

    return Faulty(model).eval()


def _model(name: str, image_size: int, workdir: str) -> nn.Module:
    model = calibrated_model(name, image_size)
    save_weights(model, name, workdir)  # the latency pass times this same model
    faults = [n.strip() for n in os.environ.get(FAULT_ENV, "").split(",")]
    return _faulty(model) if name in faults else model


# -- the checks ----------------------------------------------------------------------------


def _dynamic_batch() -> tuple[dict, ...]:
    return ({0: torch.export.Dim("batch", min=1, max=64)},)


def _torch_export(model: nn.Module, example: torch.Tensor, eager_of: dict[int, torch.Tensor],
                  image_size: int) -> tuple[dict, torch.export.ExportedProgram | None]:
    """``torch.export.export`` (non-strict) with a dynamic batch axis (traced at batch 2: a batch-1 example
    would be specialised), its program compared with eager at batch 1."""
    try:
        program = torch.export.export(model, (example,), dynamic_shapes=_dynamic_batch(), strict=False)
        with torch.no_grad():
            output = program.module()(sample_input(image_size, 1))
    except Exception as exc:  # noqa: BLE001 -- a failed export is a fact to record
        return _failed(exc), None
    return {**_compare(output, eager_of[1]), "error": None, "operator": None}, program


def _drop_stack_traces(model) -> None:  # noqa: ANN001 - an onnx_ir Model
    """Remove the exporter's per-node Python stack traces: they hold the source files' absolute
    paths, so the file's size (a recorded fact) would depend on where the project lies (a clone
    in another folder measured other sizes). Nothing that runs reads them."""
    import onnx_ir

    graphs = [model.graph, *model.functions.values()]
    for graph in graphs:
        for node in onnx_ir.traversal.RecursiveGraphIterator(graph):
            node.metadata_props.pop("pkg.torch.onnx.stack_trace", None)


MEMORY_LOCK = ".memory-heavy.lock"  # in the command's temporary folder, shared by its workers


def _onnx(source: list, image_size: int, eager_of: dict[int, torch.Tensor], path: Path) -> dict:
    """The ONNX model of ``source[0]``, a program or a model (torch's dynamo exporter, dynamic
    batch axis), checked by ``onnx.checker`` and run by ONNX Runtime at each of :data:`BATCHES`.
    ``source`` is emptied once the file is written: the caller's last reference, so the program
    and the model's weights are freed before ONNX Runtime loads its own copy.

    The conversion runs in parallel with the other workers; what follows it holds the memory
    peaks (saving serialises the weights twice over, ONNX Runtime loads its own copy: dla169
    1.5 GB in one process), so it runs in one worker at a time, under a lock on a file in the
    command's folder, while the other workers go on with their lighter steps."""
    from filelock import FileLock

    facts: dict = {"exporter": EXPORTER, "opset": None, "size_bytes": None, "checker": None, "batches": {}}
    try:
        with registry_built_once():
            exported = [torch.onnx.export(source[0], (sample_input(image_size, 2),), dynamo=True, verbose=False,
                                          input_names=["image"], output_names=["logits"])]
        _drop_stack_traces(exported[0].model)
    except Exception as exc:  # noqa: BLE001
        source.clear()
        forget_last_match()
        release_memory()
        return facts | _failed(exc)
    with FileLock(str(path.parent / MEMORY_LOCK)):
        return _saved_and_run(exported, source, image_size, eager_of, path, facts)


def _saved_and_run(exported: list, source: list, image_size: int, eager_of: dict[int, torch.Tensor], path: Path,
                   facts: dict) -> dict:
    import onnx
    import onnx_ir
    import onnxruntime

    try:
        # what ``exported.save(path, external_data=False)`` writes (onnx_ir.save: this proto, then
        # onnx.save), in two steps so that the program's weights are freed before the proto is
        # serialised: one copy of the weights fewer at the step's peak (dla169: 214 MB)
        proto = onnx_ir.to_proto(exported[0].model)
        facts["opset"] = exported[0].model.opset_imports.get("")
    except Exception as exc:  # noqa: BLE001
        return facts | _failed(exc)
    finally:
        exported.clear()  # its weights, and the program's: not in memory while ONNX Runtime runs
        source.clear()
        forget_last_match()  # onnxscript's rewriter still holds the model's last graph, and its weights
        release_memory()
    try:
        onnx.save_model(proto, str(path))
    except Exception as exc:  # noqa: BLE001
        return facts | _failed(exc)
    finally:
        proto = None
        release_memory()
    facts["size_bytes"] = path.stat().st_size
    try:
        onnx.checker.check_model(str(path), full_check=True)  # from the file: no Python copy of the model
        facts["checker"] = True
    except Exception as exc:  # noqa: BLE001
        return facts | {"checker": False} | _failed(exc)
    try:
        # ONNX Runtime's default graph optimisations (what a user's session runs), one thread (one
        # worker per core), and no memory arena: the arena's cached buffers would only raise the peak
        session = onnxruntime.InferenceSession(str(path), _session_options(1, arena=False),
                                               providers=["CPUExecutionProvider"])
        for size, eager in eager_of.items():
            output = session.run(None, {"image": sample_input(image_size, size).numpy()})[0]
            facts["batches"][str(size)] = _compare(torch.from_numpy(output), eager)
    except Exception as exc:  # noqa: BLE001
        return facts | _failed(exc)
    finally:
        session = None
        release_memory()
    ok = all(b["ok"] for b in facts["batches"].values())
    return facts | {"ok": ok, "error": None, "operator": None}


def _session_options(threads: int, arena: bool = True):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = arena
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return options


def _channels_last(model: nn.Module, x: torch.Tensor, eager: torch.Tensor) -> dict:
    try:
        with torch.no_grad():
            output = model.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last))
    except Exception as exc:  # noqa: BLE001
        return _failed(exc)
    finally:
        model.to(memory_format=torch.contiguous_format)  # as the ONNX export that follows expects
    return {**_compare(output, eager), "error": None, "operator": None}


def release_memory() -> None:
    """Collect cycles, then hand the C heap's free pages back to the system (glibc's
    ``malloc_trim``): the exporter's and the programs' freed buffers otherwise stay resident, so
    the next step's peak (ONNX Runtime's copy of the weights, the next variant) would come on top
    of memory no longer in use. Elsewhere than glibc, only the collection."""
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


def _libc_malloc_trim():
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim  # the process's own symbols: glibc's, where it is glibc
    except (OSError, AttributeError, TypeError):
        return None


_malloc_trim = _libc_malloc_trim()


def deploy_facts(name: str, image_size: int, workdir: str) -> dict:
    """Every deployability fact of ``name`` at ``image_size``; the ONNX file is left in ``workdir``
    (``<name>.onnx``) for the latency pass.

    One ``torch.export`` (non-strict: :data:`~dla_docs.deploy.rules.EXPORT_MODES`), whose program is compared with
    eager and then converted to ONNX. Each large object is dropped as soon as its last check is
    done (the model and the program once the ONNX file is written), so none of them is in memory
    while ONNX Runtime runs."""
    model = _model(name, image_size, workdir)
    with torch.no_grad():
        eager_of = {size: model(sample_input(image_size, size)) for size in BATCHES}
    non_strict, program = _torch_export(model, sample_input(image_size, 2), eager_of, image_size)
    facts = {
        "variant": name,
        "image_size": image_size,
        "param_count_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
        "output_scale": float(eager_of[1].abs().max()),
        "torch_export": {"non_strict": non_strict},
        "channels_last": _channels_last(model, sample_input(image_size, 1), eager_of[1]),
    }
    # from the non-strict program, as torch.onnx.export(dynamo=True) itself exports first
    source = [program if program is not None else model]
    del model, program
    facts["onnx"] = _onnx(source, image_size, eager_of, Path(workdir) / f"{name}.onnx")
    return {key: facts[key] for key in ("variant", "image_size", "param_count_m", "output_scale",
                                        "torch_export", "onnx", "channels_last")}
