"""Progress bars for the slow steps, shown only when a person is watching (a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[str, bool], None]]:
    """Yield a callback ``advance(item, cached)`` that moves a bar on stderr by one step."""
    with tqdm(total=total, desc=description, unit="model", file=sys.stderr,
              disable=not sys.stderr.isatty(), leave=False) as bar:
        def advance(item: str, cached: bool = False) -> None:
            bar.set_postfix_str(f"{item}{' (cached)' if cached else ''}", refresh=False)
            bar.update(1)

        yield advance
