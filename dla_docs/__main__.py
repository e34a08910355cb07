import sys

from dla_docs.cli import main

sys.exit(main())
