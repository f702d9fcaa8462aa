"""A file-backed k2hdkc node for backup tests, and the program's runner.

The node file is the data-plane stand-in's (tests/standins/dataplane);
``k2hlinetool`` on PATH is the stand-in unless the real one is first.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import subprocess
import sys

import pytest

from tests.standins.dataplane import store as storemod

REPO = pathlib.Path(__file__).resolve().parents[3]
STANDIN_BIN = REPO / 'tests' / 'standins' / 'dataplane' / 'bin'

INI = """\
[GLOBAL]
GROUP = backuptest
[K2HDKC]
K2HTYPE             = file
K2HFILE             = %s
K2HFULLMAP          = on
K2HMASKBIT          = 8
K2HCMASKBIT         = 4
K2HMAXELE           = 16
K2HPAGESIZE         = 128
"""


@dataclasses.dataclass
class Node:
    root: pathlib.Path

    @property
    def k2hfile(self) -> pathlib.Path:
        return self.root / 'data' / 'k2hdkc.k2h'

    @property
    def ini(self) -> pathlib.Path:
        return self.root / 'k2hdkc.ini'

    def create(self, data: dict[str, str]) -> Node:
        self.k2hfile.parent.mkdir(parents=True, exist_ok=True)
        self.ini.write_text(INI % self.k2hfile)
        db = storemod.Store(str(self.k2hfile), init=True)
        db.elements = {k: {'v': v, 'm': 1} for k, v in data.items()}
        db.save()
        return self

    def read(self) -> dict[str, str]:
        db = storemod.Store.open_existing(str(self.k2hfile))
        return {k: e['v'] for k, e in db.elements.items()}

    def files(self) -> list[str]:
        """Everything under the node's dir (nothing half written), less
        the stand-in's ``*.journal`` companions (a real k2hash file is one
        file)."""
        return sorted(str(p.relative_to(self.root))
                      for p in self.root.rglob('*')
                      if p.suffix != '.journal')


def env() -> dict[str, str]:
    path = os.environ.get('PATH', '')
    return dict(os.environ, PATH='%s%s%s' % (STANDIN_BIN, os.pathsep, path),
                PYTHONPATH=str(REPO))


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``trove-k2hdkc-backup`` (its console-script target) with ``args``."""
    return subprocess.run(
        [sys.executable, '-m', 'trove_k2hdkc.backup.main', *args],
        env=env(), capture_output=True, text=True, timeout=timeout,
        check=False)


def last_line(res: subprocess.CompletedProcess) -> str:
    lines = res.stdout.strip().splitlines()
    return lines[-1] if lines else ''


@pytest.fixture
def standin_path(monkeypatch):
    """The backup code in this process finds the stand-in k2hlinetool."""
    for name, value in env().items():
        if name in ('PATH', 'PYTHONPATH'):
            monkeypatch.setenv(name, value)
