"""Where the linters from test-requirements.txt are (the venv's bin first)."""

from __future__ import annotations

import pathlib
import shutil
import sys


def find(name: str) -> str | None:
    here = pathlib.Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)
