"""Which chmpx / k2hdkc / k2hdkclinetool the rig and the floor run.

Why one place: the rig's VMs and the hand-driven floor must run the same
programs, or the benchmark's ratio compares the product with our own
stand-ins. The rule: the real programs when all of them are on PATH
(the first ones found win), else the stand-ins in
tests/standins/dataplane/bin.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import subprocess
import sys

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
STANDIN_BIN = REPO_ROOT / 'tests' / 'standins' / 'dataplane' / 'bin'
PROGRAMS = ('chmpx', 'k2hdkc', 'k2hdkclinetool')
DEFAULT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'
# The option that prints each real program's version banner.
VERSION_OPTION = {'chmpx': '-v', 'k2hdkc': '-v',
                  'k2hdkclinetool': '-libversion'}


def _without_standins(path: str) -> str:
    standin = STANDIN_BIN.resolve()
    return os.pathsep.join(
        d for d in path.split(os.pathsep)
        if d and pathlib.Path(d).resolve() != standin)


def real_programs(path: str | None = None) -> dict[str, str] | None:
    """Each program's first real copy on ``path`` (default $PATH), or None
    unless all of them are there: a real chmpx with a stand-in k2hdkc
    would not form a ring."""
    search = _without_standins(path if path is not None
                               else os.environ.get('PATH', DEFAULT_PATH))
    found = {p: shutil.which(p, path=search) for p in PROGRAMS}
    if not all(found.values()):
        return None
    return {p: str(v) for p, v in found.items()}


def search_path(path: str | None = None) -> str:
    """PATH for data-plane processes (the rig's VMs and the floor): the
    stand-ins go first unless the real programs are on ``path``. The
    interpreter's bin dir follows, for the guest agent's tools."""
    base = path if path is not None else os.environ.get('PATH',
                                                        DEFAULT_PATH)
    venv_bin = str(pathlib.Path(sys.executable).parent)
    if real_programs(base):
        return os.pathsep.join([venv_bin, base])
    return os.pathsep.join([str(STANDIN_BIN), venv_bin, base])


@dataclasses.dataclass(frozen=True)
class Programs:
    """The programs a PATH runs, as found on it."""

    path: str
    found: dict[str, str | None]

    @classmethod
    def on(cls, path: str) -> Programs:
        return cls(path, {p: shutil.which(p, path=path) for p in PROGRAMS})

    @property
    def real(self) -> bool:
        standin = STANDIN_BIN.resolve()
        return all(v and pathlib.Path(v).resolve().parent != standin
                   for v in self.found.values())

    def describe(self) -> list[str]:
        """One line per program: its path and version banner."""
        return ['%-15s %s  (%s)' % (name, where or 'not found',
                                    banner(name, where))
                for name, where in self.found.items()]


def banner(name: str, where: str | None) -> str:
    """The program's version line; the stand-ins print none."""
    if where is None:
        return '-'
    if pathlib.Path(where).resolve().parent == STANDIN_BIN.resolve():
        return 'stand-in'
    try:
        res = subprocess.run([where, VERSION_OPTION[name]],
                             capture_output=True, text=True, timeout=5,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 'no version: %s' % exc
    for line in (res.stdout + res.stderr).splitlines():
        if 'Version' in line:
            return line.strip()
    return 'no version banner'


def show(path: str, who: str) -> None:
    """Print which programs ``who`` runs on ``path``, with versions."""
    print('%s run:' % who)
    for line in Programs.on(path).describe():
        print('  ' + line, flush=True)
