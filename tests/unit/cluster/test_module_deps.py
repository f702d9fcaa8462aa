"""The K2HR3 registry works on members without the ring procedures
(issue #15: ``registry`` imported ``Member`` from ``procedures``)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_registry_loads_without_the_procedures():
    code = ('import sys, trove_k2hdkc.cluster.registry; '
            'print(" ".join(sorted(sys.modules)))')
    loaded = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True
                            ).stdout.split()
    assert 'trove_k2hdkc.cluster.model' in loaded
    assert 'trove_k2hdkc.cluster.procedures' not in loaded
    assert 'trove_k2hdkc.cluster.watchdog' not in loaded
