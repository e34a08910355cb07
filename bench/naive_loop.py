"""The naive loop the bench compares dla-docs with, run as one fresh process.

What someone without dla-docs would write to document the DLA family: for each variant,
build it with timm (no weights: ``pretrained=False``, nothing is downloaded), count its
parameters, count its FLOPs with fvcore and save its state dict with ``torch.save`` to
learn the checkpoint size. One variant after another, in one process, imports included.

    python bench/naive_loop.py [--image-size N] [--import-only] [VARIANT ...]

timm is a bench-only dependency (the ``bench`` extra), never one of dla-docs' own.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import sys
import tempfile

# The zoo's variants; bench.py passes dla-docs' own list, this is the default for a manual run.
VARIANTS = ("dla34", "dla46_c", "dla46x_c", "dla60x_c", "dla60", "dla60x", "dla102", "dla102x", "dla102x2",
            "dla169", "dla60_res2net", "dla60_res2next")


def _torchvision_ops_shim(torch) -> None:
    """Let ``import timm`` (which imports torchvision) work beside a CPU-only torch.

    PyPI's torchvision wheel is linked against the CUDA build of torch; next to the CPU
    build its C++ operators do not load, and torchvision 0.28 then fails at import while
    registering fake kernels for ``torchvision::nms`` and ``qnms``. When the operators
    cannot load, declare those two schemas so the import goes through; the loop never
    calls them. When they load, nothing is declared.
    """
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return
    libraries = glob.glob(os.path.join(list(spec.submodule_search_locations)[0], "_C*.so"))
    if libraries:
        try:
            torch.ops.load_library(libraries[0])
            return
        except OSError:
            pass
    for op in ("nms", "qnms"):
        try:
            torch.library.define(f"torchvision::{op}", "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        except RuntimeError:  # already there: this torchvision defines it another way
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="*", default=list(VARIANTS), metavar="VARIANT")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--import-only", action="store_true", help="import timm, torch and fvcore, then stop")
    options = parser.parse_args(argv)

    import torch

    _torchvision_ops_shim(torch)
    import timm
    from fvcore.nn import FlopCountAnalysis

    if options.import_only:
        return 0
    unknown = [name for name in options.variants if name not in timm.list_models("dla*")]
    if unknown:
        print(f"naive_loop: timm has no model {', '.join(unknown)}", file=sys.stderr)
        return 2
    size = options.image_size
    with tempfile.TemporaryDirectory(prefix="dla-naive-") as tmp:
        for name in options.variants:
            model = timm.create_model(name, pretrained=False).eval()
            parameters = sum(p.numel() for p in model.parameters())
            analysis = FlopCountAnalysis(model, torch.randn(1, 3, size, size))
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            flops = analysis.total()
            path = os.path.join(tmp, f"{name}.pth")
            torch.save(model.state_dict(), path)
            print(f"{name}\t{parameters}\t{flops}\t{os.path.getsize(path)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
