"""``python -m dla_docs``: the working folder leaves the import path before anything else loads.

Python puts the working folder first on ``sys.path`` for ``-m``, so a ``psutil.py``,
``click.py`` or ``dataclasses.py`` lying there would be imported in place of the real module.
The package's ``__init__`` drops it first (Python runs it before this file, with
``sys.argv[0] == "-m"``); this file makes sure again. Only this package itself (already
imported, from wherever it was found) is needed from there.
"""

import os
import sys

_HERE = os.path.realpath(os.getcwd())
sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != _HERE]

from dla_docs.cli import console_main  # noqa: E402 -- after the path is cleaned

console_main()
