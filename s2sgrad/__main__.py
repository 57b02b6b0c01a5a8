"""``python -m s2sgrad``: the same as the ``s2sgrad`` command."""
import sys

from s2sgrad.tools.cli import main

if __name__ == "__main__":
    sys.exit(main())
