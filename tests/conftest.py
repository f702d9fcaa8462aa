"""Fixtures shared by every test suite."""

from __future__ import annotations

import os
import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def reference_root() -> pathlib.Path:
    """Where the captures from the real binaries live (``shared/reference``).

    ``K2HDKC_REFERENCE_DIR`` overrides; otherwise the ``shared`` folder beside
    the checkout (CI clones the repository next to it).
    """
    env = os.environ.get('K2HDKC_REFERENCE_DIR')
    if env:
        return pathlib.Path(env)
    return REPO_ROOT.parent / 'shared' / 'reference'


@pytest.fixture(scope='session')
def reference_dir() -> pathlib.Path:
    root = reference_root()
    if not (root / 'README.md').is_file():
        pytest.fail('reference captures not found at %s; set '
                    'K2HDKC_REFERENCE_DIR' % root)
    return root
