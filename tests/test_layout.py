"""The package's shape: no import cycles between its modules, and no private name of another
library outside the adapter modules (a list-based scan of the source)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dla_docs"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules ``path`` imports anywhere (functions included), TYPE_CHECKING blocks aside."""
    tree = ast.parse(path.read_text())
    skipped = {id(n) for block in ast.walk(tree) if _type_checking(block) for n in ast.walk(block)}
    own = _module_name(path)
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = own.split(".")[: len(own.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from package import module`` imports the module (the package's __init__ runs first,
            # but a submodule imported this way is no cycle); ``from module import name``, the module
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
            names = submodules if len(submodules) == len(node.names) else [base, *submodules]
        else:
            continue
        found.update(name for name in names if name in modules and name != own)
    return found


def import_cycles() -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {name: _imports(path, set(paths)) for name, path in paths.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_no_import_cycles():
    assert import_cycles() == []


# Private names of other libraries, as they are spelled in source (a list of patterns, not a parser).
PRIVATE_NAMES = re.compile("|".join([
    r"\btorch\._", r"\._C\b", r"\b_schema\b", r"\btorch\.utils\._", r"\baten\._", r"\b_get_",
    r"\b_DEFAULT_SUPPORTED_OPS\b", r"\b_should_skip_dynamo\b", r"config\.plugins\[",
    r"setattr\(nn\.init\b", r"nn\.init\.\w+\s*=(?!=)", r"\bmkdocs\.commands\b",
]))
ADAPTERS = ("measure/adapters/", "publish/mkdocs_adapter.py")


def private_uses() -> list[str]:
    """``path:line: text`` of every line outside the adapters that names another library's private name."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(ADAPTERS):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if PRIVATE_NAMES.search(code):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_private_name_of_another_library_outside_the_adapters():
    assert private_uses() == []


def test_render_imports_nothing_from_checks_but_the_reports_data_types():
    """Checks produce data, render decides how to show it: of ``checks``, render reads only the
    report's data types (``checks.findings``), never a check or the verify command's output."""
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    imported = {target for path in (PACKAGE / "render").rglob("*.py") for target in _imports(path, modules)}
    assert {m for m in imported if m.startswith("dla_docs.checks")} == {"dla_docs.checks.findings"}


def test_the_adapters_import_no_application_module():
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    adapters = [*(PACKAGE / "measure" / "adapters").glob("*.py"), PACKAGE / "publish" / "mkdocs_adapter.py"]
    for path in adapters:
        assert _imports(path, modules) <= {"dla_docs.measure.adapters"}, path


def test_vulture_finds_no_dead_code():
    """``vulture dla_docs --min-confidence 80`` reports nothing."""
    import subprocess
    import sys

    pytest.importorskip("vulture")
    found = subprocess.run([sys.executable, "-m", "vulture", str(PACKAGE), "--min-confidence", "80"],
                           capture_output=True, text=True)
    assert (found.returncode, found.stdout) == (0, "")
