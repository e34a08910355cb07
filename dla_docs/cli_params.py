"""The command line's shared parameters: the context every command gets (the project, the
progress bars) and the options and arguments several commands take, each checked as parsed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from dla_docs.errors import one_line
from dla_docs.progress import Steps
from dla_docs.zoo.variants import UnknownVariantError, list_models


@dataclass
class Context:
    """The project folder named by ``--project``, and the progress bars (shown on a terminal)."""

    project: Path | None
    progress: Steps

    def settings(self):  # -> Settings, imported here: --help loads no configuration code
        from dla_docs.config import find_root, load_settings

        return load_settings(self.project or find_root(Path.cwd()))


def _variants(_ctx: click.Context | None, _param: click.Parameter | None, names: tuple[str, ...]) -> list[str]:
    for name in names:
        if name not in list_models():
            from dla_docs.checks.zoo import suggest

            close = suggest(name, list_models())
            hint = f"; did you mean {close!r}?" if close else ""
            raise click.BadParameter(one_line(str(UnknownVariantError(name)) + hint), param_hint="VARIANT")
    return list(dict.fromkeys(names)) or list_models()


def _image_size(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    from dla_docs.measure.spec import InvalidImageSize, check_image_size

    try:
        return None if value is None else check_image_size(value)
    except InvalidImageSize as exc:
        raise click.BadParameter(str(exc)) from None


image_size_option = click.option("--image-size", type=int, default=None, callback=_image_size, help=(
    "Input side length in pixels, a multiple of 32 (default: the project setting, 224)."))
no_cache_option = click.option("--no-cache", is_flag=True, help="Measure again, ignoring cached results.")
jobs_option = click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Parallel workers (default: cores).")
variants_argument = click.argument("variants", nargs=-1, metavar="[VARIANT]...", callback=_variants)


def variant_argument(name: str):  # -> a click decorator
    """One variant, named ``name`` in the usage line."""
    return click.argument(name.lower(), metavar=name, callback=lambda c, p, v: _variants(c, p, (v,))[0])
