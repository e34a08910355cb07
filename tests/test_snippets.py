"""Every code block on every page runs on its own, offline, and writes nothing into its working folder.

Each block runs in a fresh process (see ``snippet_runner``) with ``HF_HUB_OFFLINE=1`` and a
Hub cache generated from the reference layout, in an empty temporary folder holding only the
``image.jpg`` the classification snippet names. All blocks run for one small (dla46_c) and
one large (dla169) variant; for every other page each block is compiled and the first is run.
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


def test_every_card_opens_with_the_one_line_snippet_then_usage(generated):
    for page in PAGES[1:]:
        name = page.removeprefix("models/").removesuffix(".md")
        blocks = blocks_of(generated, page)
        assert f'create_model("{name}", pretrained=True)' in blocks[0]
        assert len(blocks) >= 7, page  # one-liner, classify, config, levels, embeddings, fine-tune, save/load
        for i, block in enumerate(blocks):
            compile(block, f"{page}:block{i}", "exec")  # every block at least compiles


@pytest.mark.parametrize("name", [FULL[0], pytest.param(FULL[1], marks=pytest.mark.slow)])
def test_all_blocks_of_a_card_run_alone(generated, runner, tmp_path, name):
    outputs = [run_alone(runner, tmp_path, code, f"{name}:block{i}")
               for i, code in enumerate(blocks_of(generated, f"models/{name}.md"))]
    classify = outputs[1].splitlines()
    assert len(classify) == 5 and all(re.fullmatch(r".+: \d+\.\d%", line) for line in classify), outputs[1]
    assert all(line.rsplit(": ", 1)[0] in imagenet_classes() for line in classify)
    assert "(3, 224, 224)" in outputs[2] and "'crop_pct': 0.875" in outputs[2]
    assert "level5 stride 32 (1, " in outputs[3]
    assert "torch.Size([1, 256])" in outputs[4] or "torch.Size([1, 1024])" in outputs[4]
    assert outputs[-1].strip() == "10"


@pytest.mark.parametrize("page", [p for p in PAGES if p.removeprefix("models/").removesuffix(".md") not in FULL])
def test_first_block_of_every_other_page_runs_alone(generated, runner, tmp_path, page):
    blocks = blocks_of(generated, page)
    assert blocks, page
    run_alone(runner, tmp_path, blocks[0], f"{page}:block0")
