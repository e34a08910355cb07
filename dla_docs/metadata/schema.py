"""The model-index data: canonical field names and the records a template is read into."""


from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dla_docs.errors import InputError, Location, one_line
from dla_docs.metadata.values import (
    canonical_key,
)

# -- canonical field names -------------------------------------------------------------------

METADATA_FIELDS = (
    "FLOPs", "Parameters", "File Size", "Epochs", "Batch Size", "Training Data",
    "Training Techniques", "Training Resources", "Architecture", "Tasks", "Training Time",
    "ID", "LR", "Layers", "Dropout", "Crop Pct", "Momentum", "Image Size", "Weight Decay",
    "Interpolation",
)
ENTRY_FIELDS = ("Name", "In Collection", "Metadata", "Results", "Code", "Config", "Weights", "README", "Paper")
TOP_FIELDS = ("Models", "Collections", "Type")
COLLECTION_FIELDS = ("Name", "Paper", "Type", "README", "Metadata")
PAPER_FIELDS = ("Title", "URL")
RESULT_FIELDS = ("Task", "Dataset", "Metrics")
METRIC_FIELDS = ("Top 1 Accuracy", "Top 5 Accuracy")
REQUIRED_METADATA = ("FLOPs", "File Size")



def _table(names: Iterable[str]) -> dict[str, str]:
    return {canonical_key(n): n for n in names}


_METADATA = _table(METADATA_FIELDS)
_ENTRY = _table(ENTRY_FIELDS)
_TOP = _table(TOP_FIELDS)
_COLLECTION = _table(COLLECTION_FIELDS)
_PAPER = _table(PAPER_FIELDS)
_RESULT = _table(RESULT_FIELDS)
_METRIC = _table(METRIC_FIELDS)


# -- public data -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Located:
    """A value and where it was written: 1-based ``line``/``column`` of its first character.

    ``start``/``end`` are character offsets of the written value (quotes included) in
    :attr:`Template.text`; ``style`` is its quoting (``"'"``, ``'"'`` or ``None`` for plain);
    ``key`` is the key as written and ``key_column`` where it starts. ``--fix`` needs these
    to replace exactly the written value and nothing else.
    """

    value: Any
    line: int
    column: int
    start: int = -1
    end: int = -1
    style: str | None = None
    key: str = ""
    key_column: int = 0


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a template, printed as ``path:line:col: field: message``."""

    location: Location
    field: str
    message: str

    def __str__(self) -> str:
        text = f"{self.location}: {self.field}: {self.message}" if self.field else f"{self.location}: {self.message}"
        return one_line(text)


@dataclass(frozen=True)
class Result:
    """One ``Results`` item: accuracies as floats in percent, 0 to 100."""

    task: str
    dataset: str
    metrics: dict[str, float]
    metric_locations: dict[str, Located]
    line: int


@dataclass(frozen=True)
class ModelEntry:
    """One item of ``Models``; ``metadata`` is keyed by canonical field name."""

    name: str
    index: int
    in_collection: str
    metadata: dict[str, Located]
    results: list[Result]
    code: str | None
    config: str | None
    line: int
    column: int
    name_location: Located
    metadata_location: Located
    in_collection_location: Located
    metadata_flow: bool = False
    weights: str | None = None

    @property
    def label(self) -> str:
        """``Models[i] (name)``: how problems and findings name this entry."""
        return f"Models[{self.index}] ({self.name})"


@dataclass(frozen=True)
class Collection:
    name: str
    paper_title: str | None
    url: str | None
    line: int


@dataclass(frozen=True)
class ModelIndex:
    path: Path
    models: list[ModelEntry]
    collections: list[Collection]
    models_line: int
    type: str | None = None

    def by_name(self, name: str) -> ModelEntry | None:
        return next((m for m in self.models if m.name == name), None)

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models]


@dataclass(frozen=True)
class Template:
    """A template file as read: its exact text, the prose around the block and the index.

    ``text`` is the file decoded from UTF-8 with its line endings untouched; ``before`` and
    ``after`` are the Markdown outside the model-index comment; ``block_start``/``block_end``
    delimit the YAML inside it. ``display`` is the path as messages show it.
    """

    path: Path
    display: str
    text: str
    before: str
    after: str
    block_start: int
    block_end: int
    index: ModelIndex

    @property
    def newline(self) -> str:
        """The file's line ending, which ``--fix`` keeps (``"\\r\\n"`` or ``"\\n"``)."""
        return "\r\n" if "\r\n" in self.text else "\n"

    @property
    def yaml(self) -> str:
        return self.text[self.block_start:self.block_end]


class ModelIndexError(InputError):
    """Every problem found in one or more templates; ``str()`` is one line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("ModelIndexError needs at least one problem")
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.location, first.field, first.message)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
