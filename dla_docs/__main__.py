"""``python -m dla_docs``: the working folder leaves the import path before anything else loads.

Python puts the working folder first on ``sys.path`` for ``-m``, so a ``psutil.py`` or
``click.py`` lying there would be imported in place of the real package. Only this package
itself (already imported, from wherever it was found) is needed from there.
"""

import os
import sys

_HERE = os.path.realpath(os.getcwd())
sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != _HERE]

from dla_docs.cli import console_main  # noqa: E402 -- after the path is cleaned

console_main()
