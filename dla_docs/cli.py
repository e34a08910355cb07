"""The ``dla-docs`` command line: parse options, wire the stages together, set the exit code.

No measuring, checking or rendering happens here; each command calls the module that owns
that concern. Errors a user can cause arrive as :class:`~dla_docs.errors.DlaDocsError` and
are printed on one line; nothing here prints a traceback for them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .errors import DlaDocsError
from .variants import UnknownVariantError, list_models


class Context:
    """What every command needs: the project root and its settings (loaded lazily)."""

    def __init__(self, project: Path | None) -> None:
        self.project = project

    def settings(self):  # -> Settings; imported lazily to keep --help fast
        from .config import find_root, load_settings

        return load_settings(self.project or find_root(Path.cwd()))


def _variants(names: tuple[str, ...]) -> list[str]:
    for name in names:
        if name not in list_models():
            raise click.BadParameter(str(UnknownVariantError(name)), param_hint="VARIANT")
    return list(dict.fromkeys(names)) or list_models()


def _cache(settings, no_cache: bool):
    from .cache import MeasurementCache

    return None if no_cache or settings.cache_dir is None else MeasurementCache(settings.cache_dir)


def _image_size(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    from .measure import InvalidImageSize, check_image_size

    try:
        return None if value is None else check_image_size(value)
    except InvalidImageSize as exc:
        raise click.BadParameter(str(exc)) from None


image_size_option = click.option(
    "--image-size", type=int, default=None, callback=_image_size,
    help="Input side length in pixels, a multiple of 32 (default: the project setting, 224).",
)
no_cache_option = click.option("--no-cache", is_flag=True, help="Measure again, ignoring cached results.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Project folder (default: the nearest one with [tool.dla-docs] in pyproject.toml).")
@click.version_option(package_name="dla-docs")
@click.pass_context
def cli(ctx: click.Context, project: Path | None) -> None:
    """Measured, verified documentation for the Deep Layer Aggregation family."""
    ctx.obj = Context(project)


@cli.command()
@click.argument("variants", nargs=-1, metavar="[VARIANT]...")
@image_size_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object keyed by variant.")
@no_cache_option
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Parallel workers (default: cores).")
@click.pass_obj
def measure(obj: Context, variants: tuple[str, ...], image_size: int | None, as_json: bool,
            no_cache: bool, jobs: int | None) -> int:
    """Measure parameters, MACs, FLOPs, activations and checkpoint size."""
    from . import report
    from .progress import progress_bar
    from .runner import measure_many

    names = _variants(variants)
    settings = obj.settings()
    size = image_size or settings.image_size
    with progress_bar(len(names), "measuring") as advance:
        results = measure_many(names, size, _cache(settings, no_cache), jobs, advance)
    click.echo(report.measurements_json(results) if as_json else report.measurements_table(results))
    return 0


# -- end of commands: add new commands above this line --


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    try:
        code = cli.main(args=argv, prog_name="dla-docs", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("dla-docs: interrupted", err=True)
        return 130
    except DlaDocsError as exc:
        click.echo(f"dla-docs: error: {exc}", err=True)
        return exc.exit_code
    return code if isinstance(code, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
