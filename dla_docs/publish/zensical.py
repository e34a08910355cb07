"""Building the site with Zensical, mkdocs-material's successor, from the same ``mkdocs.yml``.

mkdocs-material reaches its end of life in May 2027 and names Zensical as its successor;
Zensical reads ``mkdocs.yml`` as it is (``INHERIT`` included). ``dla-docs build --builder
zensical`` runs ``zensical build --strict --clean`` on the staged copy of the configuration,
so the pages and the published folders are exactly those of the default builder; only the
HTML differs.

Zensical ignores settings it does not support without a word, so its exit status says little:
the tests look at the built pages (variants listed, search, nothing loaded from elsewhere).
It runs in a child process (it is a Rust runtime that prints its own report), with colour
off; its warnings become one line of :class:`SiteBuildError`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

from dla_docs.errors import DlaDocsError, ToolMissingError, one_line

BUILD_TIMEOUT_S = 900
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PROBLEM = re.compile(r"^\s*(Warning|Error):\s*(.+)$")
_WHERE = re.compile(r"\[\s*([^\]\s]+:\d+(?::\d+)?)\s*\]")


class ZensicalBuildError(DlaDocsError):
    """``zensical build --strict`` failed; the message carries its warnings."""


def zensical_version() -> str | None:
    """The installed Zensical's version, or ``None`` without it (never imports the runtime)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("zensical")
    except PackageNotFoundError:
        return None


def _problems(output: str) -> list[str]:
    """``path:line:col: message`` for each warning or error in Zensical's report."""
    lines = _ANSI.sub("", output).splitlines()
    found = []
    for i, line in enumerate(lines):
        match = _PROBLEM.match(line)
        if not match:
            continue
        where = next((w.group(1) for w in map(_WHERE.search, lines[i + 1:i + 3]) if w), "")
        found.append(f"{where}: {match.group(2).strip()}" if where else match.group(2).strip())
    return found


def build_zensical(config_file: Path, source_date_epoch: str) -> None:
    """Run ``zensical build --strict --clean`` on ``config_file``; its folders are the config's.

    The build's cache (``.cache``) lands beside the configuration, in the staging folder.
    """
    if find_spec("zensical") is None:
        raise ToolMissingError("zensical is not installed; install it (pip install zensical, or this "
                               "project's test extras) to build with --builder zensical")
    env = dict(os.environ, SOURCE_DATE_EPOCH=source_date_epoch, NO_COLOR="1", CLICOLOR="0", TERM="dumb")
    command = [sys.executable, "-m", "zensical", "build", "--config-file", str(config_file), "--strict", "--clean"]
    try:
        done = subprocess.run(command, cwd=config_file.parent, env=env, capture_output=True, text=True,
                              errors="replace", timeout=BUILD_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ZensicalBuildError(f"{config_file.name}: zensical build did not finish in {BUILD_TIMEOUT_S} s") from None
    if done.returncode != 0:
        output = done.stdout + "\n" + done.stderr
        problems = _problems(output)
        if not problems:
            tail = [line for line in _ANSI.sub("", output).splitlines() if line.strip()]
            problems = tail[-1:] or [f"exit status {done.returncode}"]
        raise ZensicalBuildError(one_line(f"mkdocs.yml: zensical {zensical_version()} build --strict failed: "
                                          + "; ".join(dict.fromkeys(problems))))
