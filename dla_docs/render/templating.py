"""The sandboxed Jinja environment that renders the project's page templates.

Templates are project files, but they are edited by many hands and run in CI, so they are
held to what a page needs: they load only from ``templates/`` (no ``..``, absolute names or
links leading out), run in Jinja's sandbox bounded in time and size
(:mod:`dla_docs.render.limits`), print every value as inert page text unless it is
:class:`~markupsafe.Markup` made by dla-docs, and have their includes followed and checked
before rendering. Every template error, whatever it is, becomes one
:class:`~dla_docs.errors.InputError` naming the template file and line.
"""

from __future__ import annotations

import dataclasses
import functools
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
import jinja2.runtime
import jinja2.sandbox
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from dla_docs.errors import InputError, Location
from dla_docs.fs import contained, decode_utf8, read_bounded, shown
from dla_docs.measure.conventions import CONVENTIONS
from dla_docs.render import formatting
from dla_docs.render.limits import (
    BoundedCodeGenerator,
    bounded_filters,
    bounded_render,
    check_binop,
    check_call,
    checked_size,
)

MAX_TEMPLATE_BYTES = 1024 * 1024  # a page template is a few kilobytes
MAX_SEQUENCE = 1_000_000          # longest string or list a template may build with '*'
MAX_POWER_BITS = 4096             # largest integer a template may build with '**'


class TemplatePathRefused(jinja2.TemplateNotFound):
    """An include or page name that would read outside ``templates/``."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, f"refused {name!r}: {reason}")
        self.reason = reason


class ProjectLoader(jinja2.BaseLoader):
    """Loads templates from one folder and nowhere else.

    Jinja's own loader already refuses ``..``; this one also refuses absolute names,
    backslashes and symbolic links that lead out of the folder, and reports a file that is
    not UTF-8 text as an :class:`InputError` naming its line instead of a traceback.
    """

    def __init__(self, folder: Path, root: Path) -> None:
        self.folder = folder.resolve()
        self.root = root

    def locate(self, name: str) -> Path:
        """The file for template ``name``, refusing any name that could leave the folder."""
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or "\0" in name or any(p in ("", ".", "..") for p in parts):
            raise TemplatePathRefused(name, "template names are relative paths inside templates/, "
                                            "without '..', '.', '\\' or a leading '/'")
        path = self.folder.joinpath(*parts)
        resolved = path.resolve()
        if resolved == self.folder or not contained(resolved, self.folder):
            raise TemplatePathRefused(name, f"it is a link to {resolved}, outside templates/")
        if not resolved.is_file():  # absent, a folder, or a FIFO that would block the build
            raise jinja2.TemplateNotFound(name)
        return path

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = self.locate(template)
        display = shown(path, self.root)
        try:
            mtime = path.stat().st_mtime
        except OSError as exc:
            raise InputError(Location(display), "file", f"cannot read: {exc.strerror or exc}") from None
        source = decode_utf8(read_bounded(path, MAX_TEMPLATE_BYTES, display), display)

        def uptodate() -> bool:
            try:
                return path.stat().st_mtime == mtime
            except OSError:
                return False

        return source, str(path), uptodate


class PageSandbox(SandboxedEnvironment):
    """Jinja's sandbox, also refusing ``*`` and ``**`` results too large to build.

    ``{{ 'x' * 10**12 }}`` in a template would otherwise exhaust memory in CI instead of
    failing with a message.
    """

    intercepted_binops = frozenset(["*", "**", "+", "%"])
    code_generator_class = BoundedCodeGenerator

    def __init__(self, root: Path, **options: Any) -> None:
        super().__init__(**options)
        self.project_root = root
        # Templates whose includes were followed, with the ``uptodate`` of every file followed:
        # a check is skipped only while none of those files changed, so no result depends on
        # what was loaded before.
        self.followed: dict[str, list[Callable[[], bool]]] = {}

    def template_name(self, path: Path) -> str:
        """The name under which the loader would find ``path`` (its path inside templates/)."""
        loader = self.loader
        if isinstance(loader, ProjectLoader):
            try:
                return Path(path).resolve().relative_to(loader.folder).as_posix()
            except ValueError:
                pass
        return str(path)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _is_int(left) and _is_int(right) and right > 0:
            if abs(left) > 1 and right * max(abs(left), 2).bit_length() > MAX_POWER_BITS:
                raise jinja2.sandbox.SecurityError(f"'{left} ** {right}' is too large for a template")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and _is_int(count) and len(sequence) * count > MAX_SEQUENCE:
                    raise jinja2.sandbox.SecurityError(f"a repetition of {len(sequence) * count:,} items is too large "
                                                       "for a template")
        check_binop(operator, left, right)
        return checked_size(super().call_binop(context, operator, left, right), f"a value built with {operator}")

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        check_call(__obj, args, kwargs)
        return __self.checked_size(super().call(__context, __obj, *args, **kwargs), "a value returned by a call")

    @staticmethod
    def checked_size(value: Any, what: str) -> Any:
        return checked_size(value, what)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def environment(templates_dir: Path, root: Path | None = None) -> PageSandbox:
    """The sandboxed Jinja environment for the project's templates (``root`` names files in messages)."""
    root = root or templates_dir.parent
    env = PageSandbox(
        root,
        loader=ProjectLoader(templates_dir, root),
        undefined=jinja2.StrictUndefined,
        finalize=formatting.page_text,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(bounded_filters(env.filters))  # Jinja's own, bounded in size
    env.filters.update(formatting.FILTERS)
    # The FLOPs conventions' columns, in order; their labels are the code's own text.
    env.globals["conventions"] = tuple(dataclasses.replace(c, label=Markup(c.label), label_billions=Markup(
        c.label_billions)) for c in CONVENTIONS)
    return env


def project_environment(root: Path) -> PageSandbox:
    """The command's one environment for the project at ``root`` (its ``templates/`` folder)."""
    return shared_environment(root / "templates", root)


@functools.lru_cache(maxsize=8)
def shared_environment(templates_dir: Path, root: Path) -> PageSandbox:
    """One environment per project for a whole command: templates compiled while checking
    them are reused when rendering (a changed file is compiled again: see ``uptodate``)."""
    return environment(templates_dir, root)


# -- template errors as one line -------------------------------------------------------------

STRING_TEMPLATE = "<template>"  # the file name Jinja gives templates made from a string


def _source_file(frame_file: str, where: Path, env: PageSandbox) -> str | None:
    """The project file a traceback frame belongs to, or ``None`` if it is no template's."""
    if frame_file == STRING_TEMPLATE:
        return shown(where, env.project_root)
    loader = env.loader
    if isinstance(loader, ProjectLoader) and Path(frame_file).resolve().is_relative_to(loader.folder):
        return shown(frame_file, env.project_root)
    return None


def _template_frames(exc: BaseException, where: Path, env: PageSandbox) -> list[tuple[str, int]]:
    """``(file, line)`` of each template frame of ``exc``'s traceback, outermost first.

    Jinja rewrites tracebacks so that a template's frames carry its file name and line.
    """
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        shown = _source_file(frame.filename, where, env)
        if shown is not None and frame.lineno:
            frames.append((shown, frame.lineno))
    return frames


LineMap = Callable[[int], int]


def same_line(line: int) -> int:
    return line


def template_error(exc: BaseException, env: PageSandbox, where: Path, line_map: LineMap = same_line) -> InputError:
    """One :class:`InputError` for a Jinja error: the template file and line where it arose.

    ``where`` is the file being rendered; ``line_map`` turns a line of a string template
    (the family prose) into the line of the file it came from.
    """
    display = shown(where, env.project_root)

    def located(file: str, line: int) -> Location:
        return Location(file, line_map(line) if file == display else line)

    if isinstance(exc, jinja2.TemplateSyntaxError):
        file = shown(exc.filename, env.project_root) if exc.filename else display
        return InputError(located(file, exc.lineno or 0), "template", exc.message or "syntax error")
    frames = _template_frames(exc, where, env)
    if isinstance(exc, RecursionError):  # an include by a computed name that loops
        first_line: dict[str, int] = {}
        for file, line in frames:
            if file in first_line:
                return InputError(located(file, first_line[file]), "include",
                                  f"{file} includes itself (an endless include loop)")
            first_line[file] = line
        return InputError(Location(display), "include", "templates include each other without end")
    file, line = frames[-1] if frames else (display, 0)
    where_ = located(file, line)
    if isinstance(exc, TemplatePathRefused):
        return InputError(where_, "include", exc.message or "refused")
    if isinstance(exc, jinja2.TemplateNotFound):
        return InputError(where_, "include", f"included template {exc.name!r} not found under templates/")
    if isinstance(exc, jinja2.TemplateError):
        return InputError(where_, "template", str(exc))
    return InputError(where_, "template", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def _include_names(node: nodes.Template) -> list[tuple[str, int]]:
    """``(name, line)`` of every template that ``node`` includes, imports or extends by a
    literal name (``{% include ['a.md', 'b.md'] %}`` names two); computed names are
    left to the render-time checks."""
    found = []
    for item in node.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        target = item.template
        candidates = target.items if isinstance(target, (nodes.List, nodes.Tuple)) else [target]
        for candidate in candidates:
            if isinstance(candidate, nodes.Const) and isinstance(candidate.value, str):
                found.append((candidate.value, item.lineno))
    return found


def _includes_of(env: PageSandbox, source: str, name: str, filename: str) -> list[tuple[str, int]]:
    """:func:`_include_names` of a template file's source: parsed, or as the sealed cache
    remembers them for exactly this source (a warm command parses no template)."""
    from dla_docs.render.compiled import SealedBytecodeCache

    memo = env.bytecode_cache if isinstance(env.bytecode_cache, SealedBytecodeCache) else None
    found = memo.includes(env, source) if memo is not None else None
    if found is None:
        try:
            found = _include_names(env.parse(source, name, filename))
        except jinja2.TemplateSyntaxError as exc:
            raise template_error(exc, env, Path(filename)) from None
        if memo is not None:
            memo.remember_includes(env, source, found)
    return found


def check_includes(env: PageSandbox, includes: list[tuple[str, int]], display: str, line_map: LineMap = same_line,
                   chain: tuple[str, ...] = (), followed: list[Callable[[], bool]] | None = None) -> None:
    """Refuse, before rendering, an include that is missing, leaves templates/ or loops.

    Follows every literal include in ``includes`` (from the template shown as ``display``),
    so a loop is reported at the include that closes it, with the whole chain.
    """
    for name, line in includes:
        where = Location(display, line_map(line))
        if name in chain:
            loop = " -> ".join((*chain[chain.index(name):], name))
            raise InputError(where, "include", f"endless include loop: {loop}")
        try:
            source, filename, uptodate = env.loader.get_source(env, name)
        except TemplatePathRefused as exc:
            raise InputError(where, "include", exc.message or "refused") from None
        except jinja2.TemplateNotFound:
            raise InputError(where, "include", f"included template {name!r} not found under templates/") from None
        if followed is not None:
            followed.append(uptodate)
        check_includes(env, _includes_of(env, source, name, filename), shown(filename, env.project_root), same_line,
                       (*chain, name), followed)


def compile_included(env: PageSandbox, templates: list[str]) -> None:
    """Compile every template that ``templates`` include by a literal name, followed to the end,
    so that rendering them compiles nothing more. A template that does not compile is left for
    rendering to report where it is reached (an include in a branch never taken is never
    compiled there); the includes were checked by :func:`load_template` already."""
    seen: set[str] = set()
    waiting = list(templates)
    while waiting:
        template = waiting.pop()
        source, filename, _ = env.loader.get_source(env, template)
        for name, _line in _includes_of(env, source, template, filename):
            if name in seen:
                continue
            seen.add(name)
            try:
                env.get_template(name)
            except jinja2.TemplateError:
                continue
            waiting.append(name)


def _where(env: PageSandbox, template: str) -> Path:
    return env.loader.folder.joinpath(*template.split("/"))


def load_template(env: PageSandbox, template: str, where: Path | None = None) -> jinja2.Template:
    """Compile ``template`` and check its includes, or raise a one-line :class:`InputError`."""
    where = where or _where(env, template)
    try:
        compiled = env.get_template(template)
    except jinja2.TemplateNotFound as exc:
        if exc.name != template:
            raise template_error(exc, env, where) from None
        raise InputError(Location(shown(where, env.project_root)), "file",
                         "page template not found; every build renders it") from None
    except (jinja2.TemplateError, RecursionError) as exc:
        raise template_error(exc, env, where) from None
    earlier = env.followed.get(template)
    if earlier is None or not all(uptodate() for uptodate in earlier):
        source, filename, uptodate = env.loader.get_source(env, template)
        followed = [uptodate]
        check_includes(env, _includes_of(env, source, template, filename), shown(where, env.project_root),
                       chain=(template,), followed=followed)
        env.followed[template] = followed
    return compiled


def load_string(env: PageSandbox, source: str, where: Path, line_map: LineMap = same_line) -> jinja2.Template:
    """Compile template text that does not live in its own file (the family prose).

    ``line_map`` turns a line of ``source`` into the line of ``where`` it was taken from.
    """
    try:
        parsed = env.parse(source)
        template = env.from_string(parsed)
    except jinja2.TemplateSyntaxError as exc:
        raise template_error(exc, env, where, line_map) from None
    check_includes(env, _include_names(parsed), shown(where, env.project_root), line_map, (env.template_name(where),))
    return template


def render_template(env: PageSandbox, template: str, where: Path | None = None, **context: Any) -> str:
    """Render one template (``templates/<template>``), turning Jinja's errors into a one-line
    :class:`InputError`."""
    where = where or _where(env, template)
    compiled = load_template(env, template, where)
    try:
        return bounded_render(compiled, context)
    except Exception as exc:  # noqa: BLE001 -- whatever a template raises is the template's error
        raise template_error(exc, env, where) from None


def render_string(env: PageSandbox, source: str, where: Path, line_map: LineMap = same_line, **context: Any) -> str:
    """Render template text that does not live in its own file; see :func:`load_string`."""
    template = load_string(env, source, where, line_map)
    try:
        return bounded_render(template, context)
    except Exception as exc:  # noqa: BLE001 -- whatever a template raises is the template's error
        raise template_error(exc, env, where, line_map) from None
