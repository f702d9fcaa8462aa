"""Discovery of the raw control-port captures for parametrized tests.

Each capture is one reply file plus the command that produced it: from
``index.jsonl`` (``sent``) or, for poller timelines, from ``timeline.txt``
(which also lists every "Server Status" seen in that reply).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib

from tests.conftest import reference_root

CONTROL_PORT = pathlib.Path('chmpx') / 'control_port'


@dataclasses.dataclass(frozen=True)
class Capture:
    path: pathlib.Path
    command: str                 # upper-cased verb, '' for an empty line
    sent: str | None             # exact bytes sent, when indexed
    statuses: tuple[str, ...] | None  # from timeline.txt, when listed

    @property
    def id(self) -> str:
        root = reference_root() / CONTROL_PORT
        return str(self.path.relative_to(root))

    def text(self) -> str:
        return self.path.read_bytes().decode('utf-8')


def _from_index(index: pathlib.Path) -> list[Capture]:
    found = []
    for line in index.read_text().splitlines():
        entry = json.loads(line)
        verb = entry['sent'].split()[0].upper() if entry['sent'].strip() \
            else ''
        found.append(Capture(index.parent / entry['file'], verb,
                             entry['sent'], None))
    return found


def _from_timeline(timeline: pathlib.Path) -> list[Capture]:
    found = []
    for line in timeline.read_text().splitlines():
        fields = line.split(None, 4)
        if len(fields) < 5 or fields[3] == '-':
            continue        # "- <ConnectionRefusedError>": no file
        statuses = tuple(s.strip() for s in fields[4].split('|'))
        found.append(Capture(timeline.parent / fields[3], fields[2],
                             None, statuses))
    return found


def all_captures() -> list[Capture]:
    root = reference_root() / CONTROL_PORT
    if not root.is_dir():
        return []
    found = []
    for index in sorted(root.rglob('index.jsonl')):
        found.extend(_from_index(index))
    for timeline in sorted(root.rglob('timeline.txt')):
        found.extend(_from_timeline(timeline))
    return found


def captures_for(*commands: str) -> list[Capture]:
    return [c for c in all_captures() if c.command in commands]
