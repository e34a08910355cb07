"""What is *recorded* about a variant, gathered once for its card: accuracy, throughput, weights.

Every fact here comes from a recorded source, never from a measurement taken during the
build: the model-index entry (Top 1 / Top 5 as written, Layers, the paper, the code), the
results source (six test sets), the benchmark source (throughput on named hardware) and the
published weights' configuration (Hub id, licence, preprocessing). Each keeps its source, so
a page can say where a figure comes from. Nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from dla_docs.metadata.results import Benchmark, BenchmarkSource, EvalResult, ResultsSource
from dla_docs.metadata.schema import Collection, ModelEntry
from dla_docs.zoo.data import PretrainedConfig, pretrained_config

PAPER_URL = "https://arxiv.org/abs/1707.06484"
ORIGINAL_CODE = "https://github.com/ucbdrive/dla"
RES2NET_PAPER = "https://arxiv.org/abs/1904.01169"
RES2NET_CODE = "https://github.com/Res2Net/Res2Net-PretrainedModels"


@dataclass(frozen=True)
class Recorded:
    """Recorded facts of one variant, each with its source; ``None``/empty where none is recorded."""

    name: str
    pretrained: PretrainedConfig
    top1_text: str | None               # ImageNet Top 1 as the template writes it ("74.63")
    top5_text: str | None
    results: tuple[EvalResult, ...]     # the results source's rows, ImageNet first
    results_source: str | None
    benchmarks: tuple[Benchmark, ...]
    benchmarks_source: str | None
    paper_title: str
    paper_url: str
    code_urls: tuple[tuple[str, str], ...]   # (label, URL) of the original implementations
    layers: int | None                         # the model-index Layers, as recorded
    architecture: tuple[str, ...]              # the model-index Architecture, as recorded

    @property
    def top1(self) -> float | None:
        return float(self.top1_text) if self.top1_text is not None else None

    @property
    def top5(self) -> float | None:
        return float(self.top5_text) if self.top5_text is not None else None


def _written(text: str, located) -> str:  # noqa: ANN001 - a Located
    raw = text[located.start:located.end].strip().strip("'\"").strip()
    return raw.removesuffix("%").strip()


def recorded_facts(name: str, entry: ModelEntry | None, template_text: str, collections: list[Collection],
                   results: ResultsSource | None, benchmarks: BenchmarkSource | None, is_res2net: bool) -> Recorded:
    """Gather the recorded facts of variant ``name`` (``template_text`` is the text ``entry`` was read from)."""
    top1 = top5 = None
    if entry is not None:
        for result in entry.results:
            if result.dataset.strip().casefold() == "imagenet":
                located = result.metric_locations
                if "Top 1 Accuracy" in located:
                    top1 = _written(template_text, located["Top 1 Accuracy"])
                if "Top 5 Accuracy" in located:
                    top5 = _written(template_text, located["Top 5 Accuracy"])
                break
    collection = next((c for c in collections if entry is not None and c.name == entry.in_collection), None)
    code_urls = [("DLA (ucbdrive/dla)", ORIGINAL_CODE)]
    if is_res2net:
        code_urls.append(("Res2Net (Res2Net/Res2Net-PretrainedModels)", RES2NET_CODE))
    layers = entry.metadata["Layers"].value if entry is not None and "Layers" in entry.metadata else None
    architecture = entry.metadata["Architecture"].value if entry is not None and "Architecture" in entry.metadata else ()
    return Recorded(
        name=name,
        pretrained=pretrained_config(name),
        top1_text=top1,
        top5_text=top5,
        results=tuple(results.for_variant(name)) if results is not None else (),
        results_source=results.display if results is not None else None,
        benchmarks=tuple(benchmarks.for_variant(name)) if benchmarks is not None else (),
        benchmarks_source=benchmarks.display if benchmarks is not None else None,
        paper_title=(collection.paper_title if collection and collection.paper_title else "Deep Layer Aggregation"),
        paper_url=PAPER_URL,
        code_urls=tuple(code_urls),
        layers=layers,
        architecture=tuple(architecture),
    )
