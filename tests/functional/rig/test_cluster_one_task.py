"""One topology change at a time, through the real trove-api.

Six requests for one cluster leave at once (grow twice, shrink, restart,
upgrade, delete). The cluster task is claimed with one conditional
UPDATE, so exactly one is accepted (202); the other five answer 409 and
name the task that holds the cluster. The winner then runs to the end
and the cluster is ACTIVE with a consistent ring (or gone, if delete won).
"""

from __future__ import annotations

import json
import threading
from typing import Any
import urllib.error

import pytest

from tests.rig import cluster
from tests.rig import launcher
from tests.rig import scenario

pytestmark = pytest.mark.rig

MEMBERS = 3
UPGRADE_VERSION = '1.0.16-rig-one-task'
TASK_OF = {'grow': 'GROWING_CLUSTER', 'grow again': 'GROWING_CLUSTER',
           'shrink': 'SHRINKING_CLUSTER', 'restart': 'RESTARTING_CLUSTER',
           'upgrade': 'UPGRADING_CLUSTER', 'delete': 'DELETING'}
MEMBERS_AFTER = {'grow': 4, 'grow again': 4, 'shrink': 2, 'restart': 3,
                 'upgrade': 3}


def call(info: dict[str, Any], method: str, path: str,
         body: Any = None) -> tuple[int, str]:
    """(HTTP status, body text) of one API request."""
    try:
        cluster._api(info, method, path, body)
        return 202, ''
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def requests(cid: str, leaver: str) -> dict[str, tuple]:
    grow = {'grow': [{'flavorRef': '1', 'volume': {'size': 1}}]}
    path = '/clusters/%s' % cid
    return {
        'grow': ('POST', path, grow),
        'grow again': ('POST', path, grow),
        'shrink': ('POST', path, {'shrink': [{'id': leaver}]}),
        'restart': ('POST', path, {'restart': {}}),
        'upgrade': ('POST', path,
                    {'upgrade': {'datastore_version': UPGRADE_VERSION}}),
        'delete': ('DELETE', path, None),
    }


def fire_together(info: dict[str, Any], reqs: dict[str, tuple]
                  ) -> dict[str, tuple[int, str]]:
    start = threading.Barrier(len(reqs))
    answers: dict[str, tuple[int, str]] = {}

    def send(name: str) -> None:
        start.wait()
        answers[name] = call(info, *reqs[name])
    threads = [threading.Thread(target=send, args=(name,)) for name in reqs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return answers


@pytest.mark.timeout(1500)
def test_concurrent_topology_changes_one_wins(trove_rig):
    info = trove_rig.info
    launcher.add_datastore_version(info, UPGRADE_VERSION)
    cid = cluster.create(info, 'one-task', MEMBERS)['id']
    try:
        cluster.wait_active(info, cid)
        leaver = cluster.instances(info, cid)[0]['id']
        answers = fire_together(info, requests(cid, leaver))

        accepted = [name for name, (code, _) in answers.items()
                    if code == 202]
        assert len(accepted) == 1, answers
        winner = accepted[0]
        for name, (code, text) in answers.items():
            if name == winner:
                continue
            assert code == 409, (name, code, text)
            message = next(iter(json.loads(text).values()))['message']
            assert TASK_OF[winner] in message, (name, message)

        if winner == 'delete':
            cluster.wait_gone(info, cid)
            assert cluster.k2hr3_objects(info, cid) == []
            return
        cluster.wait_active(info, cid, timeout=900)
        members = cluster.instances(info, cid)
        assert len(members) == MEMBERS_AFTER[winner]
        rings = scenario.views([m['ip'] for m in members])
        assert scenario.all_healthy(rings), rings
    finally:
        if cid in {c['ID'] for c in trove_rig.openstack(
                'database', 'cluster', 'list')}:
            status, text = call(info, 'DELETE', '/clusters/%s' % cid)
            assert status in (202, 409), text
            cluster.wait_gone(info, cid, timeout=600)
