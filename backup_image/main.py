"""Trove runs ``python3 main.py`` in the image's WORKDIR: the same program
as the ``trove-k2hdkc-backup`` console script (doc/backup.md §3)."""

import sys

from trove_k2hdkc.backup.main import main

if __name__ == '__main__':
    sys.exit(main())
