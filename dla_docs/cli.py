"""The ``dla-docs`` command line: each command parses its options (the shared ones:
:mod:`dla_docs.cli_params`), makes one call into :mod:`dla_docs.run` and prints what it returns;
errors a user can cause print one line each."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dla_docs.cli_params import (
    Context,
    image_size_option,
    jobs_option,
    no_cache_option,
    variant_argument,
    variants_argument,
)
from dla_docs.errors import DlaDocsError, error_lines, one_line
from dla_docs.progress import Steps
from dla_docs.zoo.variants import list_models


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Project folder (default: the nearest one with [tool.dla-docs] in pyproject.toml).")
@click.version_option(package_name="dla-docs")
@click.pass_context
def cli(ctx: click.Context, project: Path | None) -> None:
    """Measured, verified documentation for the Deep Layer Aggregation family."""
    ctx.obj = Context(project, ctx.with_resource(Steps()))


@cli.command()
@variants_argument
@image_size_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object keyed by variant.")
@no_cache_option
@jobs_option
@click.pass_obj
def measure(obj: Context, variants: list[str], image_size: int | None, as_json: bool,
            no_cache: bool, jobs: int | None) -> int:
    """Measure parameters, MACs, FLOPs, activations and checkpoint size."""
    from dla_docs import run
    from dla_docs.render import text_report as report

    measured = run.measure(obj.settings(), variants, image_size, no_cache, jobs, obj.progress("measuring", len(variants)))
    for note in measured.notes:
        click.echo(f"dla-docs: note: {one_line(note)}", err=True)
    click.echo((report.measurements_json if as_json else report.measurements_table)(measured.measurements))
    return 0


@cli.command()
@click.option("--template", "templates", multiple=True, metavar="PATH",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Template to verify; repeatable (default: the project's configured templates).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="Findings as text, as one JSON object, or as GitHub Actions annotations.")
@click.option("--checkpoint-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Folder of real checkpoints (<variant>*.pth, *.pt or *.safetensors): File Size must match exactly.")
@click.option("--fix", is_flag=True, help="Write the measured values into the template for the fields that drifted.")
@click.option("--add-missing", is_flag=True, help="With --fix, also add Parameters where an entry lacks it.")
@no_cache_option
@click.pass_obj
def verify(obj: Context, templates: tuple[Path, ...], fmt: str, checkpoint_dir: Path | None, fix: bool,
           add_missing: bool, no_cache: bool) -> int:
    """Check recorded model-index metadata and generated pages against measurements.

    Exit status: 0 when everything holds, 1 on drift (every finding listed), 2 on bad input.
    """
    from dla_docs import run
    from dla_docs.checks.report import format_problems, format_report
    from dla_docs.metadata import ModelIndexError

    if add_missing and not fix:
        raise click.UsageError("--add-missing works with --fix")
    try:
        verified = run.verify(obj.settings(), templates, checkpoint_dir, fix, add_missing, no_cache,
                              obj.progress("measuring", len(list_models())))
    except ModelIndexError as exc:
        if fmt != "text":
            click.echo(format_problems(exc.problems, fmt))
        raise
    click.echo(format_report(verified.report, fmt, verified.fixes))
    return 0 if verified.report.ok else 1


@cli.command()
@variant_argument("VARIANT")
@click.option("--kind", type=click.Choice(["hda", "ida", "overview"]), default="hda", show_default=True,
              help="hda: every block and aggregation node, stage by stage; ida: the chain of levels; "
                   "overview: the trees folded, one node per root (the model card's figure).")
@click.option("--format", "fmt", type=click.Choice(["svg", "dot", "png"]), default="svg", show_default=True,
              help="svg or png drawn by Graphviz 'dot'; dot: the DOT source (needs no Graphviz).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")
@image_size_option
@no_cache_option
@click.pass_obj
def graph(obj: Context, variant: str, kind: str, fmt: str, output: Path | None, image_size: int | None,
          no_cache: bool) -> int:
    """Draw the aggregation graph of one variant with Graphviz."""
    from dla_docs import run

    if fmt == "png" and output is None and sys.stdout.isatty():
        raise click.UsageError("refusing to write PNG to a terminal; use -o FILE")
    data = run.graph(obj.settings(), variant, kind, fmt, image_size, no_cache, output)
    if output is None:
        run.write_stdout(data)
    return 0


@cli.command()
@click.option("--strict", is_flag=True, help="Fail (exit 1, nothing written) when the metadata has drifted.")
@click.option("--no-site", is_flag=True, help="Write docs/ only; skip 'mkdocs build'.")
@click.option("--builder", type=click.Choice(["mkdocs", "zensical"]), default="mkdocs", show_default=True,
              help="Build site/ with mkdocs-material or with Zensical, its successor (same mkdocs.yml).")
@no_cache_option
@click.pass_obj
def build(obj: Context, strict: bool, no_site: bool, builder: str, no_cache: bool) -> int:
    """Measure, check, draw and render every page into docs/, then build site/.

    A failed or interrupted build leaves the previous docs/ and site/ as they were. Drift in
    the metadata is reported; with --strict it fails the build (exit 1), nothing written.
    """
    from dla_docs import run
    from dla_docs.render.text_report import build_lines

    settings = obj.settings()
    built = run.build(settings, strict, not no_site, builder, no_cache, obj.progress("measuring", len(list_models())))
    for line, to_stderr in build_lines(built, settings, builder, strict):
        click.echo(line, err=to_stderr)
    return 0 if built.published is not None else 1


@cli.command()
@variants_argument
@click.option("--check", is_flag=True, help="Re-run everything but latency and compare with the committed "
                                            "record; exit 1 on any difference, nothing written.")
@jobs_option
@click.pass_obj
def deploy(obj: Context, variants: list[str], check: bool, jobs: int | None) -> int:
    """Measure deployability: torch.export, ONNX + onnxruntime equality, channels_last, CPU latency.

    Needs the deploy extra (pip install 'dla-docs[deploy]'). Writes data/deploy_dla.json.
    """
    from dla_docs import run
    from dla_docs.progress import no_progress
    from dla_docs.render.text_report import deploy_lines

    exporting = obj.progress("exporting", len(variants))
    timing = no_progress if check else obj.progress("timing", len(variants))
    deployed = run.deploy(obj.settings(), variants, check, jobs, exporting, timing)
    for line, to_stderr in deploy_lines(deployed, check):
        click.echo(line, err=to_stderr)
    return 0 if deployed.ok else 1


@cli.group()
def export() -> None:
    """Write the documentation as CITATION.cff or Hugging Face model cards."""

@export.command("cff")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: CITATION.cff in the project folder).")
@click.pass_obj
def export_cff(obj: Context, output: Path | None) -> int:
    """Write CITATION.cff from the citations the pages show."""
    from dla_docs import run

    click.echo(f"dla-docs export cff: wrote {run.export_cff(obj.settings(), output)}")
    return 0


@export.command("hf")
@variants_argument
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write <variant>/README.md and <variant>/config.json into.")
@no_cache_option
@click.pass_obj
def export_hf(obj: Context, variants: list[str], output: Path, no_cache: bool) -> int:
    """Write Hugging Face model cards (README.md with metadata, config.json) per variant.

    Every card is validated with huggingface_hub before any file is written; nothing is uploaded.
    """
    from dla_docs import run

    run.export_hf(obj.settings(), variants, output, no_cache, obj.progress("measuring", len(list_models())))
    click.echo(f"dla-docs export hf: {len(variants)} card(s) in {output}/")
    return 0


@cli.command()
@variant_argument("A")
@variant_argument("B")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="A table for people, or one JSON object.")
@image_size_option
@no_cache_option
@click.pass_obj
def diff(obj: Context, a: str, b: str, fmt: str, image_size: int | None, no_cache: bool) -> int:
    """Compare two variants: configuration, and per level parameters, MACs, receptive field, memory."""
    from dla_docs import run
    from dla_docs.render import text_report as report

    result = run.diff(obj.settings(), a, b, image_size, no_cache)
    click.echo(report.diff_json(result) if fmt == "json" else report.diff_text(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status. An error a user can cause prints one line each
    (``dla-docs: error: path:line:col: field: why``, :func:`~dla_docs.errors.error_lines`) and exits 2;
    any other exception is a bug in dla-docs and keeps its traceback."""
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
    except (DlaDocsError, UnicodeDecodeError, OSError) as exc:
        for line in error_lines(exc):
            click.echo(f"dla-docs: error: {line}", err=True)
        return exc.exit_code if isinstance(exc, DlaDocsError) else 2
    return code if isinstance(code, int) else 0


def console_main() -> None:
    """The ``dla-docs`` script: :func:`main`, output flushed, then exit without interpreter teardown
    (every file was written atomically and every lock released by then)."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
