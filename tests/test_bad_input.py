"""The bad-input corpus: every malformed or hostile input gives one clear line and changes nothing.

Each case is a file under ``tests/data/bad/`` written into a throw-away copy of this project
(its measurement cache warm, so nothing is measured) in place of a template, the
configuration or ``mkdocs.yml``; then the command of the table runs through
``dla_docs.cli.main``. Every case must exit 2, print one ``dla-docs: error:`` line per
problem naming the file, the line (where the input has lines) and the field, print no
traceback, and leave every file of the project as it was, with no ``docs/`` or ``site/``
appearing. A few cases also run as a real process, to show that no traceback reaches
stderr there either.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import copy_project

from dla_docs.cli import main
from dla_docs.metadata import MAX_TEMPLATE_BYTES
from dla_docs.render import graphs

BAD = Path(__file__).parent / "data" / "bad"
TEMPLATE = "templates/models/dla.md"
SNIPPETS = "templates/code_snippets.md"
CONFIG = "pyproject.toml"
MKDOCS = "mkdocs.yml"
LOCK = ".dla-docs.lock"  # created by 'build' before it reads anything; empty, never holds data

VERIFY = ("verify",)
BUILD = ("build", "--no-site")
MEASURE = ("measure", "dla34")
pytestmark = pytest.mark.timeout(180, func_only=True)  # every case under a timeout: no hang passes
ENCODING = object()  # the line of the first byte that is not UTF-8


@dataclass(frozen=True)
class Expect:
    """One line of the message: on the line holding ``needle`` (its ``occurrence``-th), in
    file ``path`` (default: the case's target), naming ``field`` and saying ``says``.

    ``needle=None``: the problem concerns the whole file, which is named without a line.
    ``line_in_text``: the line is given in the message's text (``line N``), not as ``path:N``.
    """

    needle: str | object | None
    field: str
    says: str
    occurrence: int = 0
    path: str | None = None
    line_in_text: bool = False


@dataclass(frozen=True)
class Case:
    file: str
    target: str
    command: tuple[str, ...]
    expect: tuple[Expect, ...]

    @property
    def id(self) -> str:
        return self.file.rsplit(".", 1)[0]


def case(file: str, target: str, command: tuple[str, ...], *expect: Expect) -> Case:
    return Case(file, target, command, expect)


def e(needle: str | object | None, field: str, says: str, **options) -> Expect:
    return Expect(needle, field, says, **options)


M0, M1 = "Models[0] (dla46_c)", "Models[1] (dla46x_c)"
TOOL = "tool.dla-docs"

CASES = [
    # -- YAML that does not parse ------------------------------------------------------------
    case("yaml_unclosed_quote.md", TEMPLATE, VERIFY,
         e("Interpolation: 'bilinear", f"{M0}.Metadata.Interpolation", "a closing quote is missing")),
    case("yaml_unterminated_quote.md", TEMPLATE, VERIFY,
         e("- Name: 'DLA", "Collections[0]", "never closed")),
    case("yaml_tab_indent.md", TEMPLATE, VERIFY, e("\tFLOPs", f"{M0}.Metadata.FLOPs", "a tab in the indentation")),
    case("yaml_bad_indent.md", TEMPLATE, VERIFY, e("      File Size", f"{M0}.Metadata.File Size", "indentation")),
    case("yaml_not_a_mapping.md", TEMPLATE, VERIFY, e("|", "model-index", "expected a mapping")),
    case("yaml_deep_nesting.md", TEMPLATE, VERIFY, e("Models: [[", "model-index", "nested too deeply")),
    case("yaml_tag.md", TEMPLATE, VERIFY, e("!!python", f"{M0}.Metadata.FLOPs", "refused")),
    case("yaml_anchor.md", TEMPLATE, VERIFY, e("&flops", f"{M0}.Metadata.FLOPs", "anchors are not allowed")),
    # -- wrong types, missing fields ---------------------------------------------------------
    case("type_text_for_number.md", TEMPLATE, VERIFY, e("FLOPs: lots", f"{M0}.Metadata.FLOPs", "expected a number")),
    case("type_mapping_for_list.md", TEMPLATE, VERIFY,
         e("Training Data:", f"{M0}.Metadata.Training Data", "expected a list")),
    case("type_list_for_metadata.md", TEMPLATE, VERIFY,
         e("  - FLOPs", f"{M1}.Metadata", "expected a mapping")),
    case("type_boolean.md", TEMPLATE, VERIFY, e("Epochs: true", f"{M0}.Metadata.Epochs", "boolean")),
    case("missing_required_field.md", TEMPLATE, VERIFY,
         e("  Metadata:", f"{M1}.Metadata.File Size", "required field missing", occurrence=1)),
    case("missing_name.md", TEMPLATE, VERIFY, e("- Metadata:", "Models[1].Name", "required field missing")),
    # -- numbers out of range ----------------------------------------------------------------
    case("number_negative.md", TEMPLATE, VERIFY, e("File Size: -", f"{M0}.Metadata.File Size", "positive integer")),
    case("number_zero.md", TEMPLATE, VERIFY, e("Batch Size: 0", f"{M0}.Metadata.Batch Size", "positive integer")),
    case("number_huge_integer.md", TEMPLATE, VERIFY, e("FLOPs: 999", f"{M0}.Metadata.FLOPs", "too large")),
    case("number_huge_exponent.md", TEMPLATE, VERIFY, e("1e999999999", f"{M0}.Metadata.Epochs", "too large")),
    case("number_huge_float.md", TEMPLATE, VERIFY, e("LR: 1e400", f"{M0}.Metadata.LR", "must be within")),
    case("number_fraction_out_of_range.md", TEMPLATE, VERIFY,
         e("Crop Pct: '1.5'", f"{M0}.Metadata.Crop Pct", "must be within")),
    case("number_accuracy_out_of_range.md", TEMPLATE, VERIFY,
         e("101%", f"{M0}.Results[0].Metrics.Top 1 Accuracy", "within 0-100")),
    # -- names: unknown, duplicate, misplaced, hostile ---------------------------------------
    case("name_unknown_top_level_key.md", TEMPLATE, VERIFY, e("Extras: 1", "Extras", "unknown key")),
    case("name_control_characters.md", TEMPLATE, VERIFY, e('"Extras', "Extras\\x1b[31m\\nred", "unknown key")),
    case("name_unknown_collection.md", TEMPLATE, VERIFY,
         e("In Collection: DLB", f"{M0}.In Collection", "is not defined under Collections")),
    case("name_duplicate_model.md", TEMPLATE, VERIFY,
         e("- Name: dla46_c", "Models[1] (dla46_c).Name", "duplicate model name", occurrence=1)),
    case("name_duplicate_key.md", TEMPLATE, VERIFY,
         e("Epochs: 120", f"{M0}.Metadata.Epochs", "duplicate key", occurrence=1)),
    case("name_misplaced_key.md", TEMPLATE, VERIFY,
         e("  File Size: 4387641", f"{M1}.File Size", "check this line's indentation")),
    case("several_problems.md", TEMPLATE, VERIFY,
         e("FLOPs: lots", f"{M0}.Metadata.FLOPs", "expected a number"),
         e("File Size: -1", f"{M1}.Metadata.File Size", "positive integer"),
         e("In Collection: DLB", f"{M1}.In Collection", "is not defined")),
    # -- the file itself ---------------------------------------------------------------------
    case("block_missing.md", TEMPLATE, VERIFY, e(None, "model-index", "no model-index block")),
    case("block_unclosed.md", TEMPLATE, VERIFY, e("<!--", "model-index", "never closed")),
    case("block_twice.md", TEMPLATE, VERIFY, e("<!--", "model-index", "a second model-index block", occurrence=1)),
    case("block_early_close.md", TEMPLATE, VERIFY,
         e("8x GPUs -->", "model-index", "'-->' inside the block closes the HTML comment here")),
    case("block_early_close_collections_first.md", TEMPLATE, BUILD,
         e("Aggregation -->", "model-index", "'-->' inside the block closes the HTML comment here")),
    case("empty.md", TEMPLATE, VERIFY, e(None, "model-index", "no model-index block")),
    case("binary.md", TEMPLATE, VERIFY, e(ENCODING, "encoding", "not UTF-8")),
    case("non_utf8.md", TEMPLATE, VERIFY, e(ENCODING, "encoding", "not UTF-8")),
    # -- Jinja in the family prose (rendered by build) -----------------------------------------
    case("jinja_syntax.md", TEMPLATE, BUILD, e("{% if %}", "template", "Expected an expression")),
    case("jinja_undefined.md", TEMPLATE, BUILD, e("trainer_name", "template", "'trainer_name' is undefined")),
    case("jinja_sandbox_escape.md", TEMPLATE, BUILD, e("__class__", "template", "unsafe")),
    case("jinja_memory_bomb.md", TEMPLATE, BUILD, e("10**12", "template", "too large")),
    case("jinja_after_block.md", TEMPLATE, BUILD, e("{{ unclosed", "template", "unexpected end of template")),
    case("include_missing.md", TEMPLATE, BUILD, e("{% include", "include", "'nope.md' not found")),
    case("include_parent_dir.md", TEMPLATE, BUILD, e("{% include", "include", "refused '../../etc/passwd'")),
    case("include_absolute.md", TEMPLATE, BUILD, e("{% include", "include", "refused '/etc/passwd'")),
    case("include_itself_prose.md", TEMPLATE, BUILD,
         e("{% include", "include", "endless include loop: models/dla.md -> models/dla.md")),
    case("snippets_include_itself.md", SNIPPETS, BUILD,
         e("{% include", "include", "endless include loop: code_snippets.md -> code_snippets.md")),
    case("snippets_syntax.md", SNIPPETS, BUILD, e("{% endif %}", "template", "unknown tag 'endif'")),
    case("snippets_non_utf8.md", SNIPPETS, BUILD, e(ENCODING, "encoding", "not UTF-8")),
    # -- [tool.dla-docs] in pyproject.toml ---------------------------------------------------
    case("config_invalid_toml.toml", CONFIG, MEASURE, e('docs-dir = "docs', f"{TOOL}.docs-dir", "invalid TOML")),
    case("config_duplicate_key.toml", CONFIG, MEASURE,
         e("image-size = 256", f"{TOOL}.image-size", "invalid TOML: Cannot overwrite a value")),
    case("config_not_utf8.toml", CONFIG, MEASURE, e(ENCODING, f"{TOOL}.site-dir", "not UTF-8")),
    case("config_section_not_table.toml", CONFIG, MEASURE, e("dla-docs = 5", TOOL, "expected a table")),
    case("config_wrong_type.toml", CONFIG, MEASURE, e("image-size", f"{TOOL}.image-size", "expected an integer")),
    case("config_unknown_key.toml", CONFIG, MEASURE, e("image_size", f"{TOOL}.image_size", "unknown setting")),
    case("config_image_size.toml", CONFIG, MEASURE, e("image-size", f"{TOOL}.image-size", "multiple of 32")),
    case("config_image_size_huge.toml", CONFIG, MEASURE, e("image-size", f"{TOOL}.image-size", "multiple of 32")),
    case("config_tolerance.toml", CONFIG, MEASURE,
         e("file-size-tolerance", f"{TOOL}.file-size-tolerance", "fraction in [0, 1)")),
    case("config_convention.toml", CONFIG, MEASURE, e("convention =", f"{TOOL}.convention", "unknown convention")),
    case("config_templates_outside.toml", CONFIG, VERIFY,
         e("templates =", f"{TOOL}.templates", "points outside the project folder")),
    case("config_templates_missing.toml", CONFIG, VERIFY,
         e(None, "file", "No such file", path="templates/models/none.md")),
    case("config_docs_absolute.toml", CONFIG, BUILD, e("docs-dir", f"{TOOL}.docs-dir", "points outside the project")),
    case("config_docs_parent.toml", CONFIG, BUILD, e("docs-dir", f"{TOOL}.docs-dir", "points outside the project")),
    case("config_docs_is_root.toml", CONFIG, BUILD, e("docs-dir", f"{TOOL}.docs-dir", "not the project folder")),
    case("config_docs_is_templates.toml", CONFIG, BUILD,
         e("docs-dir", f"{TOOL}.docs-dir", "overlaps the templates folder")),
    case("config_docs_is_a_file.toml", CONFIG, BUILD, e("docs-dir", f"{TOOL}.docs-dir", "is a file")),
    case("config_site_inside_docs.toml", CONFIG, BUILD, e("docs-dir", f"{TOOL}.docs-dir", "overlaps site-dir")),
    # -- mkdocs.yml ----------------------------------------------------------------------------
    case("mkdocs_broken.yml", MKDOCS, BUILD, e("docs_dir: [", "", "mapping values are not allowed here")),
    case("mkdocs_tab.yml", MKDOCS, BUILD, e("\tdocs_dir", "", "found character '\\t'")),
    case("mkdocs_dirs_disagree.yml", MKDOCS, BUILD, e("docs_dir:", "docs_dir", "is 'elsewhere'")),
]


# -- running a case ----------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def graphs_drawn_once():
    """Draw each variant's graphs once for the module, not once per build.

    The same DOT gives the same SVG; the corpus tests error handling, and a build draws 25
    graphs before it renders the first template.
    """
    drawn: dict[str, str] = {}
    draw = graphs.render_svg

    def draw_once(graph) -> str:
        if graph.source not in drawn:
            drawn[graph.source] = draw(graph)
        return drawn[graph.source]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(graphs, "render_svg", draw_once)
        yield


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, measurements) -> Path:
    """This project's inputs with a warm cache, copied once; each case copies it again."""
    return copy_project(tmp_path_factory.mktemp("bad-input") / "pristine", measurements)


def project_with(pristine: Path, where: Path, target: str, data: bytes) -> Path:
    root = where / "project"
    shutil.copytree(pristine, root, symlinks=True)
    (root / target).write_bytes(data)
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` (folders too) with the sha256 of each file's bytes."""
    state = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if name == LOCK:
            continue
        state[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return state


def line_number(data: bytes, expect: Expect) -> int | None:
    """The line the message must name, found in the input itself."""
    if expect.needle is None:
        return None
    if expect.needle is ENCODING:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return data[:exc.start].count(b"\n") + 1
        raise AssertionError("the input is valid UTF-8")
    lines = data.decode("utf-8").split("\n")
    return [i for i, line in enumerate(lines, 1) if expect.needle in line][expect.occurrence]


def check_message(err: str, data: bytes, case_: Case) -> list[str]:
    """Assert one line per expected problem, each naming file, line and field; return them."""
    lines = err.splitlines()
    assert len(lines) == len(case_.expect), err
    for line, expect in zip(lines, case_.expect):
        assert line.startswith("dla-docs: error: "), line
        path = re.escape(expect.path or case_.target)
        number = line_number(data, expect)
        if number is None:
            assert re.search(rf"(^|[ /]){path}: ", line), line
        elif expect.line_in_text:
            assert re.search(rf"(^|[ /]){path}: ", line) and f"line {number}," in line, line
        else:
            assert re.search(rf"(^|[ /]){path}:{number}(:\d+)?: ", line), line
        assert expect.field in line and expect.says in line, line
    return lines


def run_case(case_: Case, data: bytes, pristine: Path, where: Path, capsys) -> str:
    """Run one case in a fresh copy of the project and check everything; the message."""
    root = project_with(pristine, where, case_.target, data)
    before = snapshot(root)
    code = main(["--project", str(root), *case_.command])
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    lines = check_message(err, data, case_)
    assert snapshot(root) == before
    assert not (root / "docs").exists() and not (root / "site").exists()
    return "\n".join(lines)


@pytest.mark.parametrize("case_", CASES, ids=[c.id for c in CASES])
def test_bad_input_exits_2_with_one_clear_line_and_changes_nothing(case_, pristine, tmp_path, capsys):
    run_case(case_, (BAD / case_.file).read_bytes(), pristine, tmp_path, capsys)


def test_the_corpus_is_exactly_the_files_of_the_folder():
    """Every committed bad input has a row, and the corpus is as large as the issue asks."""
    assert sorted(c.file for c in CASES) == sorted(p.name for p in BAD.iterdir())
    assert len(CASES) >= 25


def test_a_very_large_template_is_refused_before_it_is_read(pristine, tmp_path, capsys):
    """Generated, not committed: the real template padded past the limit with prose lines."""
    real = (pristine / TEMPLATE).read_bytes()
    padding = b"Padding prose, repeated to make the file too large to read.\n"
    data = padding * (MAX_TEMPLATE_BYTES // len(padding) + 1) + real
    assert len(data) > MAX_TEMPLATE_BYTES
    too_large = case("<generated>", TEMPLATE, VERIFY, e(None, "file", f"larger than {MAX_TEMPLATE_BYTES // 2**20} MiB"))
    run_case(too_large, data, pristine, tmp_path, capsys)


def test_unknown_variant_name_is_drift_not_bad_input(pristine, tmp_path, capsys):
    """A well-formed entry naming no zoo variant is a finding (exit 1), not unreadable input."""
    text = (pristine / TEMPLATE).read_text(encoding="utf-8").replace("- Name: dla34\n", "- Name: dla35\n")
    root = project_with(pristine, tmp_path, TEMPLATE, text.encode())
    code = main(["--project", str(root), "verify"])
    out, err = capsys.readouterr()
    assert code == 1 and "no variant 'dla35' in the model zoo; did you mean 'dla34'?" in out, out + err


# -- what no reader anticipated ------------------------------------------------------------------

def test_an_unanticipated_os_error_is_one_line_exit_2(pristine, tmp_path, capsys, monkeypatch):
    """The last net in main(): a file-system error is the environment's, not a bug."""
    from dla_docs import config

    def unreadable(root):
        raise PermissionError(13, "Permission denied", str(root / "pyproject.toml"))

    monkeypatch.setattr(config, "load_settings", unreadable)
    code = main(["--project", str(pristine), "measure", "dla34"])
    assert code == 2
    assert capsys.readouterr().err == f"dla-docs: error: {pristine / 'pyproject.toml'}: Permission denied\n"


def test_an_internal_bug_keeps_its_traceback(pristine, monkeypatch):
    """Only errors a user can cause are turned into messages; a bug in dla-docs is not hidden."""
    from dla_docs import config

    def broken(root):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(config, "load_settings", broken)
    with pytest.raises(ZeroDivisionError):
        main(["--project", str(pristine), "measure", "dla34"])


# -- as a real process ---------------------------------------------------------------------------

SUBPROCESS_CASES = ["yaml_tab_indent.md", "non_utf8.md", "include_parent_dir.md", "config_invalid_toml.toml"]


def test_no_traceback_reaches_stderr_of_a_real_process(pristine, tmp_path):
    """The console entry point prints the same single line and exits 2 (run side by side)."""
    by_file = {c.file: c for c in CASES}
    running = []
    for name in SUBPROCESS_CASES:
        case_ = by_file[name]
        data = (BAD / name).read_bytes()
        root = project_with(pristine, tmp_path / case_.id, case_.target, data)
        command = [sys.executable, "-m", "dla_docs", "--project", str(root), *case_.command]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
                                   env={**os.environ, "PYTHONWARNINGS": "ignore"})
        running.append((case_, data, root, snapshot(root), process))
    for case_, data, root, before, process in running:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 2, (case_.file, out, err)
        assert "Traceback" not in err + out
        check_message(err, data, case_)
        assert snapshot(root) == before
