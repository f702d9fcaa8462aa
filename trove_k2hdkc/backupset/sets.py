"""A cluster backup set: the Trove backups of every member, taken at once.

Why no table of its own: a set is exactly its member backups (Trove's
``backups`` rows, Swift objects, quotas and deletion), so it is stored as
them: each member backup's description carries the set's id, the
member's ring position and the cluster (doc/backup.md §6). Nothing can
then disagree with what Swift holds, and Trove's own backup commands show
the members too.

Ring position: members are numbered in ring order, the order of their
CUSTOM_ID_SEED, which is the Trove instance id (doc/ring-procedures.md
§1); a restore gives backup *i* to the new member *i* in the same order,
so every node gets back the key ranges it held.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

MARKER = 'k2hdkc-backup-set'
_DESCRIPTION_RE = re.compile(
    r'^' + MARKER + r' (?P<set>[0-9a-f-]{36}) (?P<index>\d+)/(?P<count>\d+)'
    r' of cluster (?P<cluster>[0-9a-f-]{36})(?:: (?P<text>.*?))?'
    r'(?P<failed> \| FAILED: .*)?$', re.S)
#: Trove's backups.description is VARCHAR(512).
MAX_TEXT = 200

COMPLETED, BUILDING, FAILED, INCOMPLETE, DELETE_FAILED = (
    'COMPLETED', 'BUILDING', 'FAILED', 'INCOMPLETE', 'DELETE_FAILED')
_RUNNING = ('NEW', 'BUILDING', 'SAVING')


@dataclasses.dataclass(frozen=True)
class Tag:
    """What a member backup's description says of its set."""

    set_id: str
    index: int
    count: int
    cluster_id: str
    text: str = ''

    def description(self) -> str:
        out = '%s %s %d/%d of cluster %s' % (
            MARKER, self.set_id, self.index, self.count, self.cluster_id)
        return out + (': ' + self.text if self.text else '')


def parse(description: str | None) -> Tag | None:
    match = _DESCRIPTION_RE.match(description or '')
    if not match:
        return None
    return Tag(match['set'], int(match['index']), int(match['count']),
               match['cluster'], match['text'] or '')


def failure(description: str | None) -> str | None:
    """Why a member backup failed, as its guest recorded it."""
    text = description or ''
    mark = ' | FAILED: '
    return text.split(mark, 1)[1] if mark in text else None


def ring_order(instance_ids: list[str]) -> list[str]:
    """Members in ring order (CUSTOM_ID_SEED = instance id)."""
    return sorted(instance_ids)


@dataclasses.dataclass
class BackupSet:
    """``members``: the set's backups (rows with ``id``, ``state``, ...)
    by their ring index."""

    id: str
    tag: Tag
    name: str
    project_id: str
    members: dict[int, Any]

    @property
    def cluster_id(self) -> str:
        return self.tag.cluster_id

    @property
    def count(self) -> int:
        return self.tag.count

    @property
    def status(self) -> str:
        states = [m.state for m in self.members.values()]
        if any(s in _RUNNING for s in states):
            return BUILDING
        if 'DELETE_FAILED' in states:
            return DELETE_FAILED
        if 'FAILED' in states:
            return FAILED
        if len(self.members) != self.count:
            return INCOMPLETE
        return COMPLETED if set(states) == {'COMPLETED'} else FAILED

    def ordered(self) -> list[Any]:
        """The backups in ring order (only for a complete set)."""
        return [self.members[i] for i in range(1, self.count + 1)]

    def view(self) -> dict[str, Any]:
        members = [{'index': i, 'backup_id': m.id,
                    'instance_id': m.instance_id, 'status': m.state,
                    'reason': failure(m.description),
                    'size': m.size, 'locationRef': m.location}
                   for i, m in sorted(self.members.items())]
        created = min((m.created for m in self.members.values()),
                      default=None)
        return {'id': self.id, 'name': self.name,
                'description': self.tag.text or None,
                'cluster_id': self.cluster_id,
                'project_id': self.project_id, 'status': self.status,
                'member_count': self.count,
                'created': str(created) if created else None,
                'size': sum(m.size or 0 for m in self.members.values()),
                'members': members}


def group(rows: list[Any]) -> dict[str, BackupSet]:
    """Sets by id from backup rows (rows of no set are skipped)."""
    sets: dict[str, BackupSet] = {}
    for row in rows:
        tag = parse(row.description)
        if tag is None:
            continue
        found = sets.setdefault(tag.set_id, BackupSet(
            tag.set_id, tag, row.name, row.tenant_id, {}))
        found.members[tag.index] = row
    return sets
