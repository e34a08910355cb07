"""The ``dla-docs`` command line: parse options, wire the stages together, set the exit code.

No measuring, checking or rendering happens here; each command calls the module that owns
that concern. Errors a user can cause arrive as :class:`~dla_docs.errors.DlaDocsError` and
are printed on one line; nothing here prints a traceback for them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from dla_docs.errors import DlaDocsError, one_line
from dla_docs.zoo.variants import UnknownVariantError, list_models


class Context:
    """What every command needs: the project root and its settings (loaded lazily)."""

    def __init__(self, project: Path | None) -> None:
        self.project = project

    def settings(self):  # -> Settings; imported lazily to keep --help fast
        from dla_docs.config import find_root, load_settings

        return load_settings(self.project or find_root(Path.cwd()))


def _variants(names: tuple[str, ...]) -> list[str]:
    for name in names:
        if name not in list_models():
            from dla_docs.checks.zoo import suggest

            close = suggest(name, list_models())
            hint = f"; did you mean {close!r}?" if close else ""
            raise click.BadParameter(one_line(str(UnknownVariantError(name)) + hint), param_hint="VARIANT")
    return list(dict.fromkeys(names)) or list_models()


def _cache(settings, no_cache: bool):
    from dla_docs.run import cache_for

    return cache_for(settings, no_cache)


def _image_size(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    from dla_docs.measure.spec import InvalidImageSize, check_image_size

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
    from dla_docs.render import text_report as report
    from dla_docs.measure.runner import measure_many
    from dla_docs.progress import Steps

    names = _variants(variants)
    settings = obj.settings()
    size = image_size or settings.image_size
    with Steps() as steps:
        results = measure_many(names, size, _cache(settings, no_cache), jobs, steps("measuring", len(names)))
    click.echo(report.measurements_json(results) if as_json else report.measurements_table(results))
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

    Exit status: 0 when everything holds, 1 on drift (every finding is listed),
    2 on unreadable or invalid input.
    """
    from dla_docs import run as runs
    from dla_docs.checks.checkpoints import checkpoint_notes, inspect_checkpoints, scan_checkpoints
    from dla_docs.checks.fix import fix_templates
    from dla_docs.checks.report import format_problems, format_report
    from dla_docs.checks.verify import (
        entries_to_measure,
        resolve_folder,
        resolve_paths,
        with_checkpoints,
    )
    from dla_docs.metadata import ModelIndexError
    from dla_docs.progress import Steps

    if add_missing and not fix:
        raise click.UsageError("--add-missing works with --fix")
    settings = obj.settings()
    runs.prepare(settings, no_cache)  # compiled templates from the cache; measuring starts up meanwhile
    paths = resolve_paths(settings, templates)
    checkpoint_folder = resolve_folder(settings, checkpoint_dir, "--checkpoint-dir")
    own = set(paths) == set(settings.templates)
    pages = own and runs.pages_to_check(settings)
    try:
        read = runs.read_project_templates(settings, paths, pages)
    except ModelIndexError as exc:
        if fmt != "text":
            click.echo(format_problems(exc.problems, fmt))
        raise
    asked = [t for t in read if t.path in paths]
    facts = (inspect_checkpoints(settings, checkpoint_folder, entries_to_measure(asked))
             if checkpoint_folder is not None else None)

    def command_report(run):
        report = run.report if own else runs.check(settings, asked, run.measurements, results=run.results)
        if facts is not None:
            report = with_checkpoints(report, facts)
            report.notes.extend(checkpoint_notes(scan_checkpoints(checkpoint_folder, list_models()),
                                                 entries_to_measure(asked), settings.root))
        if own:
            stale, note = run.page_findings()
            report.findings.extend(stale)
            report.checked += 0 if note else 1
            report.notes.extend([note] if note else [])
        else:
            report.notes.append("pages not checked: they are generated from the configured templates")
        return report

    with Steps() as steps:
        run = runs.start(settings, no_cache, steps, templates=read, render=pages)
        report = command_report(run)
        fixes = []
        if fix:
            fixes = fix_templates(asked, report, run.measurements, add_missing)
            if any(result.changed for result in fixes):
                run = runs.reread(run, no_cache)
                asked = [t for t in run.templates if t.path in paths]
                report = command_report(run)
    run.remember()
    click.echo(format_report(report, fmt, fixes))
    return 0 if report.ok else 1


@cli.command()
@click.argument("variant", metavar="VARIANT")
@click.option("--kind", type=click.Choice(["hda", "ida", "overview"]), default="hda", show_default=True,
              help="hda: every block and aggregation node, stage by stage; ida: the chain of levels.")
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
    from dla_docs.measure.extract import extract_structure
    from dla_docs.measure.runner import measure_many
    from dla_docs.publish.exports import refuse_managed, write_file
    from dla_docs.render import graphs

    name = _variants((variant,))[0]
    if fmt != "dot":
        graphs.require_dot()  # fail before measuring, not after
    if fmt == "png" and output is None and sys.stdout.isatty():
        raise click.UsageError("refusing to write PNG to a terminal; use -o FILE")
    settings = obj.settings()
    if output is not None:
        refuse_managed(output, settings)  # before measuring
    size = image_size or settings.image_size
    measurement = measure_many([name], size, _cache(settings, no_cache), jobs=1)[name]
    data = graphs.render(graphs.GRAPH_KINDS[kind](extract_structure(name, measurement)), fmt)
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    write_file(output, data, settings)  # atomically; never onto the project's managed paths
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

    Output goes through a staging folder: a failed or interrupted build leaves the previous
    docs/ and site/ as they were. Drift in the metadata is reported; with --strict it fails
    the build (exit 1) before anything is written.
    """
    from dla_docs.checks.report import finding_line
    from dla_docs.progress import Steps
    from dla_docs.publish.site import build_lock, publish
    from dla_docs.run import start

    settings = obj.settings()
    with build_lock(settings.root), Steps() as steps:
        generated = start(settings, no_cache, steps)
        for finding in generated.report.findings:
            click.echo(f"{'error' if strict else 'warning'}: {finding_line(finding)}", err=True)
        if strict and generated.report.findings:
            click.echo(f"dla-docs build: {len(generated.report.findings)} finding(s) with --strict; nothing written",
                       err=True)
            return 1
        advance = steps("writing docs/" + ("" if no_site else " and building site/"), 1)
        published = publish(settings, generated.files, site=not no_site, builder=builder, stamps=generated.cache)
        generated.remember()
        advance("done", False)
    docs = settings.docs_dir.relative_to(settings.root).as_posix()
    site = settings.site_dir.relative_to(settings.root).as_posix()
    if published.up_to_date:
        built = f"{docs}/ ({published.docs_files} files) and {site}/ ({builder}) are up to date, nothing written"
    else:
        built = f"{published.docs_files} files in {docs}/" + (
            f", site built in {site}/ by {builder}" if published.site_built else " (site not built)")
    click.echo(f"dla-docs build: {built}"
               + f"; {len(generated.report.findings)} metadata finding(s)")
    return 0


@cli.group()
def export() -> None:
    """Write the documentation in other formats (CITATION.cff, Hugging Face model cards)."""


@export.command("cff")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: CITATION.cff in the project folder).")
@click.pass_obj
def export_cff(obj: Context, output: Path | None) -> int:
    """Write CITATION.cff from the citations the pages show."""
    from dla_docs.publish.exports import write_file
    from dla_docs.render.citations import CFF_FILE, citation_cff

    settings = obj.settings()
    own = settings.citation or settings.root / CFF_FILE
    target = output if output is not None else own
    write_file(target, citation_cff(settings.root).encode("utf-8"), settings, allow=(own,))
    click.echo(f"dla-docs export cff: wrote {target}")
    return 0


@export.command("hf")
@click.argument("variants", nargs=-1, metavar="[VARIANT]...")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write <variant>/README.md and <variant>/config.json into.")
@no_cache_option
@click.pass_obj
def export_hf(obj: Context, variants: tuple[str, ...], output: Path, no_cache: bool) -> int:
    """Write Hugging Face model cards (README.md with metadata, config.json) per variant.

    Every card is read back with huggingface_hub (metadata errors not ignored) before any
    file is written. Nothing is uploaded; the Hub may apply further checks of its own.
    """
    from dla_docs.progress import Steps
    from dla_docs.publish.exports import refuse_managed, write_files
    from dla_docs.run import hf_export

    names = _variants(variants)
    settings = obj.settings()
    refuse_managed(output, settings)  # before measuring
    with Steps() as steps:
        files = hf_export(settings, names, no_cache, steps)
    write_files(output, files, settings)
    click.echo(f"dla-docs export hf: {len(names)} card(s) in {output}/")
    return 0


@cli.command()
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="A table for people, or one JSON object.")
@image_size_option
@no_cache_option
@click.pass_obj
def diff(obj: Context, a: str, b: str, fmt: str, image_size: int | None, no_cache: bool) -> int:
    """Compare two variants: configuration, and per level parameters, MACs, receptive field, memory.

    Exit status: 0 with the differences; 2 for an unknown variant (the valid names are listed).
    """
    from dla_docs.render import text_report as report
    from dla_docs.measure.diff import diff_variants
    from dla_docs.measure.runner import measure_many

    for name in (a, b):
        _variants((name,))
    settings = obj.settings()
    size = image_size or settings.image_size
    found = measure_many(list(dict.fromkeys((a, b))), size, _cache(settings, no_cache))
    result = diff_variants(found[a], found[b])
    click.echo(report.diff_json(result) if fmt == "json" else report.diff_text(result))
    return 0


# -- end of commands: add new commands above this line --


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code.

    Errors a user can cause are printed as ``dla-docs: error: path:line:col: field: why``,
    one line each (a template with several problems gives one line per problem), with exit
    status 2. An ``OSError`` or ``UnicodeDecodeError`` that no reader turned into such an
    error is still an input or environment problem, reported on one line the same way;
    any other exception is a bug in dla-docs and keeps its traceback.
    """
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
        for line in str(exc).splitlines() or [type(exc).__name__]:
            click.echo(f"dla-docs: error: {one_line(line)}", err=True)
        return exc.exit_code
    except UnicodeDecodeError as exc:
        click.echo(f"dla-docs: error: {_undecodable(exc)}", err=True)
        return 2
    except OSError as exc:
        click.echo(f"dla-docs: error: {_os_error(exc)}", err=True)
        return 2
    return code if isinstance(code, int) else 0


def _os_error(exc: OSError) -> str:
    """``path: reason`` on one line for a file-system error no reader anticipated."""
    from dla_docs.errors import one_line

    where = exc.filename if exc.filename is not None else "dla-docs"
    return one_line(f"{where}: {exc.strerror or exc}")


def _undecodable(exc: UnicodeDecodeError) -> str:
    """One line for text that is not UTF-8 where no reader said which file it was."""
    return f"an input file is not UTF-8 text ({exc.reason} at byte {exc.start})"


def console_main() -> None:
    """The ``dla-docs`` console script: :func:`main`, then exit without interpreter teardown.

    Tearing down torch's and the other modules' state takes about half a second and
    changes nothing on disk: every file was written atomically and every lock released by
    then. Output is flushed first; in-process callers (the tests) use :func:`main`.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    console_main()
