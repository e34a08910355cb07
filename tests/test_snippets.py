"""Every code block on every page runs on its own, offline, and writes nothing into its working folder.

Each block runs in a fresh process (see ``snippet_runner``) with ``HF_HUB_OFFLINE=1`` and a
Hub cache generated from the reference layout, in an empty temporary folder holding only the
``image.jpg`` the classification snippet names. All blocks run for one small (dla46_c) and
one large (dla169) variant; for every other page each block is compiled and the first is run.
Each card's timm snippet and its dla_docs equivalent, for every task (classification, feature
maps, embeddings, fine-tuning), run on the same input against the same Hub cache, give
identical tensors, for all twelve variants (dla46_c in the fast subset; timm is a test
dependency; see ``snippet_runner`` for how torchvision imports beside the CPU build of torch).
"""

from __future__ import annotations

import re

import pytest
from PIL import Image

from dla_docs import imagenet_classes, list_models

from conftest import PROJECT
from snippet_runner import SnippetRunner, snippet_env

VARIANTS = list_models()
FULL = ("dla46_c", "dla169")
PAGES = ["index.md", *(f"models/{n}.md" for n in VARIANTS)]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def blocks_of(generated, page: str) -> list[str]:
    return PYTHON_BLOCK.findall(generated.files[page].decode())


@pytest.fixture(scope="module")
def runner(hub_cache, tmp_path_factory):
    home = tmp_path_factory.mktemp("snippet-home")
    runner = SnippetRunner(snippet_env(hub_cache, home, PROJECT), tmp_path_factory.mktemp("snippet-logs"))
    yield runner
    runner.close()


TINY = re.compile(r"torch\.randn\((\d+), 3, 224, 224\)")


def run_alone(runner, tmp_path, code: str, name: str):
    """Run ``code`` in a fresh process in an empty folder (plus image.jpg); the folder must not change.

    Random inputs shrink from 224x224 to 64x64 (every DLA takes any multiple of 32), which
    divides the cost of a forward pass by twelve; the classification block's image goes
    through the real transform at 224.
    """
    code = TINY.sub(r"torch.randn(\1, 3, 64, 64)", code)
    folder = tmp_path / f"cwd-{runner.count}"
    folder.mkdir()
    Image.new("RGB", (80, 60), (200, 120, 40)).save(folder / "image.jpg")  # small: resized to 256 anyway
    result = runner.run(code, folder, name)
    assert result.status == 0, f"{name} failed:\n{code}\n---\n{result.output}"
    assert sorted(p.name for p in folder.iterdir()) == ["image.jpg"], f"{name} wrote into the working folder"
    return result.output


TIMM_ONE_LINE = 'model = timm.create_model("{}.in1k", pretrained=True)'
INSTALL_TIMM = "```sh\npip install timm\n```"


def test_every_card_opens_with_the_install_line_and_the_timm_snippet_then_dla_docs(generated):
    for page in PAGES[1:]:
        name = page.removeprefix("models/").removesuffix(".md")
        text = generated.files[page].decode()
        blocks = blocks_of(generated, page)
        assert TIMM_ONE_LINE.format(name) in blocks[0] and "import timm" in blocks[0], page
        assert f'create_model("{name}", pretrained=True)' in blocks[1] and "import dla_docs" in blocks[1], page
        assert text.index(INSTALL_TIMM) < text.index(blocks[0]), page  # the install line comes first
        assert "```sh\npip install .\n```" in text, page  # and dla_docs' own, before its usage
        assert len(blocks) >= 9, page  # the two one-liners, classify (timm, dla_docs), config, levels, ...
        for i, block in enumerate(blocks):
            compile(block, f"{page}:block{i}", "exec")  # every block at least compiles


def _output(outputs: list[str], marker: str) -> str:
    return next(o for o in outputs if marker in o)


@pytest.mark.parametrize("name", [FULL[0], pytest.param(FULL[1], marks=pytest.mark.slow)])
def test_all_blocks_of_a_card_run_alone(generated, runner, tmp_path, name):
    blocks = blocks_of(generated, f"models/{name}.md")
    outputs = [run_alone(runner, tmp_path, code, f"{name}:block{i}") for i, code in enumerate(blocks)]
    classify = [o.splitlines() for o, b in zip(outputs, blocks) if "topk(5)" in b]
    assert len(classify) == 2  # timm's and dla_docs'
    for lines in classify:
        assert len(lines) == 5 and all(re.fullmatch(r".+: \d+\.\d%", line) for line in lines), lines
        assert all(line.rsplit(": ", 1)[0] in imagenet_classes() for line in lines)
    assert "(3, 224, 224)" in _output(outputs, "crop_pct") and "'crop_pct': 0.875" in _output(outputs, "crop_pct")
    assert "level5 stride 32 (1, " in _output(outputs, "level5")
    assert "torch.Size([1, 256])" in _output(outputs, "torch.Size") or "torch.Size([1, 1024])" in _output(
        outputs, "torch.Size")
    assert next(o for o, b in zip(outputs, blocks) if "restored.fc.out_channels" in b).strip() == "10"
    onnx = [o for o, b in zip(outputs, blocks) if "onnxruntime.InferenceSession" in b]  # the Deploy section's
    error = re.search(r"^ONNX Runtime against PyTorch: relative error (\S+) \(tolerance (\S+)\)$", onnx[0], re.M)
    assert len(onnx) == 1 and error and float(error[1]) <= float(error[2]), onnx  # torch may warn on stderr too


@pytest.mark.parametrize("page", [p for p in PAGES if p.removeprefix("models/").removesuffix(".md") not in FULL])
def test_first_block_of_every_other_page_runs_alone(generated, runner, tmp_path, page):
    blocks = blocks_of(generated, page)
    assert blocks, page
    run_alone(runner, tmp_path, blocks[0], f"{page}:block0")


# -- timm and dla_docs: the same network, the same weights, the same logits ------------------

LOGIT_VARIANTS = ["dla46_c", *(pytest.param(n, marks=pytest.mark.slow) for n in VARIANTS if n != "dla46_c")]


def _classify_blocks(generated, name: str) -> tuple[str, str]:
    blocks = [b for b in blocks_of(generated, f"models/{name}.md") if "topk(5)" in b]
    timm_block = next(b for b in blocks if "import timm" in b)
    ours = next(b for b in blocks if "import dla_docs" in b)
    return timm_block, ours


@pytest.mark.parametrize("name", LOGIT_VARIANTS)
def test_timm_and_dla_docs_snippets_give_identical_logits(generated, runner, tmp_path, name):
    """Both classification snippets of the card, unchanged, each in a fresh process, on the same
    noise image and the same cached weights; a line appended after each saves its ``batch`` and
    ``logits`` outside the working folder. The oracle for the weights is the file itself: the
    two loaders are independent (timm's own, and dla_docs' checked one)."""
    import numpy as np
    import torch

    saved = tmp_path / "saved"
    saved.mkdir()
    results = {}
    for label, block in zip(("timm", "dla_docs"), _classify_blocks(generated, name)):
        out = saved / f"{label}.pt"
        code = block + f"\nimport torch as _t\n_t.save({{'batch': batch, 'logits': logits}}, {str(out)!r})\n"
        folder = tmp_path / f"cwd-{label}"
        folder.mkdir()
        noise = np.random.default_rng(7).integers(0, 256, (300, 400, 3), dtype=np.uint8)
        Image.fromarray(noise).save(folder / "image.jpg", quality=95)
        result = runner.run(code, folder, f"{name}:{label}")
        assert result.status == 0, f"{name} ({label}) failed:\n{result.output}"
        assert sorted(p.name for p in folder.iterdir()) == ["image.jpg"]
        results[label] = torch.load(out, weights_only=True)
    assert torch.equal(results["timm"]["batch"], results["dla_docs"]["batch"])  # the same preprocessing
    timm_logits, ours = results["timm"]["logits"], results["dla_docs"]["logits"]
    assert timm_logits.shape == ours.shape == (1, 1000)
    assert torch.equal(timm_logits, ours), (timm_logits - ours).abs().max()
    assert ours.std() > 0.01  # a real forward pass, not a constant


# -- every other task: timm's snippet and dla_docs' give the same tensors ---------------------

TASKS = {  # task -> (marker of both blocks, what each block leaves to compare)
    "features": (("features_only=True", "forward_levels"), "{'features': list(features)}"),
    "embeddings": (("num_classes=0", "num_classes=0"), "{'embedding': embedding, 'pooled': pooled}"),
    "fine-tune": (("num_classes=10", "num_classes=10"), "{'state': model.state_dict()}"),
}
TASK_CASES = [pytest.param(task, name, marks=() if name == "dla46_c" else pytest.mark.slow)
              for task in TASKS for name in VARIANTS]
RANDOM_INPUT = re.compile(r"torch\.randn\((\d+), 3, 224, 224\)")


def _task_blocks(generated, name: str, task: str) -> tuple[str, str]:
    (timm_marker, ours_marker), _ = TASKS[task]
    blocks = blocks_of(generated, f"models/{name}.md")
    timm_block = next(b for b in blocks if "import timm" in b and timm_marker in b)
    ours = next(b for b in blocks if "import dla_docs" in b and ours_marker in b and "safetensors" not in b)
    return timm_block, ours


@pytest.mark.parametrize("task, name", TASK_CASES)
def test_timm_and_dla_docs_snippets_give_identical_tensors_for_every_task(generated, runner, tmp_path, task, name):
    """The card's timm snippet and its dla_docs equivalent for one task (feature maps at every
    level, image embeddings both ways, fine-tuning), unchanged but for their random input: each
    ``torch.randn(n, 3, 224, 224)`` reads one saved tensor instead (64x64, so that both see the
    same image; every DLA takes any multiple of 32). Each runs in a fresh process against the
    same Hub cache and saves what it computed. Fine-tuning's new classifier is random in both
    (timm's and dla_docs' own initialisation), so it is compared by shape, and every other
    tensor (the trained weights, and the BatchNorm statistics one training step updates) for
    equality."""
    import torch

    saved = tmp_path / "saved"
    saved.mkdir()
    inputs = {}
    for n in (1, 2):
        inputs[n] = saved / f"input{n}.pt"
        torch.save(torch.randn(n, 3, 64, 64, generator=torch.Generator().manual_seed(n)), inputs[n])
    results = {}
    for label, block in zip(("timm", "dla_docs"), _task_blocks(generated, name, task)):
        assert RANDOM_INPUT.search(block), block
        code = RANDOM_INPUT.sub(lambda m: f"torch.load({str(inputs[int(m.group(1))])!r}, weights_only=True)", block)
        out = saved / f"{label}.pt"
        code += f"\nimport torch as _t\n_t.save({TASKS[task][1]}, {str(out)!r})\n"
        folder = tmp_path / f"cwd-{label}"
        folder.mkdir()
        result = runner.run(code, folder, f"{name}:{task}:{label}")
        assert result.status == 0, f"{name} {task} ({label}) failed:\n{result.output}"
        assert sorted(p.name for p in folder.iterdir()) == [], f"{label} wrote into the working folder"
        results[label] = torch.load(out, weights_only=True)
    theirs, ours = results["timm"], results["dla_docs"]
    if task == "features":
        assert len(theirs["features"]) == len(ours["features"]) == 6  # level0 ... level5
        for a, b in zip(theirs["features"], ours["features"]):
            assert a.shape == b.shape and torch.equal(a, b), (a - b).abs().max()
        assert [f.shape[-1] for f in ours["features"]] == [64, 32, 16, 8, 4, 2]  # strides 1 ... 32
    elif task == "embeddings":
        for key in ("embedding", "pooled"):
            assert theirs[key].shape == ours[key].shape and theirs[key].dim() == 2, key
            assert torch.equal(theirs[key], ours[key]), (key, (theirs[key] - ours[key]).abs().max())
        assert torch.equal(ours["embedding"], ours["pooled"]) and ours["pooled"].std() > 0
    else:
        a, b = theirs["state"], ours["state"]
        assert sorted(a) == sorted(b)
        for key in a:
            assert a[key].shape == b[key].shape, key
            if not key.startswith("fc."):
                assert torch.equal(a[key], b[key]), key
        assert a["fc.weight"].shape[0] == 10
        moved = [k for k in a if k.endswith("running_mean") and a[k].abs().sum() > 0]
        assert moved  # the training step updated BatchNorm statistics, identically in both
