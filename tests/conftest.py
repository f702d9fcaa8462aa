"""Fixtures shared by every test suite."""

from __future__ import annotations

import os
import pathlib

import pytest

# Hypothesis loads third-party plugins at import. trio (selenium's
# dependency) registers one, and trio cannot import once Trove's modules
# have monkey-patched sockets with eventlet (tests/unit/cluster), so the
# property tests there would fail to collect. No test uses such a plugin.
os.environ.setdefault('HYPOTHESIS_NO_PLUGINS', '1')

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
REFERENCE_ROOT = REPO_ROOT / 'tests' / 'data' / 'reference'

# One file from every capture family: if any is absent the checkout is
# incomplete and every contract test would compare against nothing.
_REFERENCE_MARKERS = (
    'chmpx/control_port/healthy_3nodes/index.jsonl',
    'ini/3nodes/server-node1.ini',
    'k2hdkc/k2hdkclinetool_basic.out',
    'k2hr3/exchanges.json',
)


def reference_root() -> pathlib.Path:
    """Where the captures from the real binaries live, inside the repository.

    Module-level helpers that build parameter lists at collection time call
    this directly; tests take the ``reference_dir`` fixture instead.
    """
    return REFERENCE_ROOT


@pytest.fixture(scope='session')
def reference_dir() -> pathlib.Path:
    root = reference_root()
    missing = [m for m in _REFERENCE_MARKERS if not (root / m).is_file()]
    if missing:
        pytest.fail('reference captures missing under %s: %s'
                    % (root, ', '.join(missing)))
    return root
