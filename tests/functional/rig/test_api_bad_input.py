"""Generated bad requests to the real trove-api: never a 5xx, never an orphan.

Hypothesis builds cluster create, grow, shrink, upgrade and restart bodies:
schema-valid and not (wrong types, missing fields, unknown flavors and
networks, every nics shape, huge and negative counts and sizes, unknown or
repeated member ids, wrong versions, unicode, nested junk). Each body also
carries at least one defect drawn from a list, so none of them should be
accepted: an accepted one is a missing check and fails the test (after the
run, so the run stays bounded and everything it made is cleaned up).
Every answer must be a 4xx whose message says what to fix. Afterwards the
rig holds exactly the one cluster the test made: its members, their VMs
and its K2HR3 objects, nothing else.

The run is bounded (``MAX_EXAMPLES`` per action) and reproducible:
derandomized, with a fixed seed and no example database.
"""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any
import urllib.error
import uuid

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import seed
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from tests.rig import cluster
from tests.rig import state

pytestmark = pytest.mark.rig

MEMBERS = 2
MAX_EXAMPLES = 25
SEED = 20261205
BOUNDED = settings(max_examples=MAX_EXAMPLES, deadline=None,
                   derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))

# Messages that say nothing about what to fix.
VAGUE = {'', 'bad request', 'invalid request body.', 'none'}

_answers: list[tuple[str, Any, int, str]] = []
_accepted: list[tuple[str, Any, str]] = []


def call(info: dict[str, Any], method: str, path: str,
         body: Any) -> tuple[int, str]:
    try:
        cluster._api(info, method, path, body)
        return 202, ''
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors='replace')


def message_of(text: str) -> str:
    """Trove's fault body is {"<kind>": {"message": ..., "code": ...}}."""
    try:
        fault = next(iter(json.loads(text).values()))
        return str(fault.get('message', ''))
    except (ValueError, AttributeError, StopIteration):
        return text


def check(info: dict[str, Any], what: str, method: str, path: str,
          body: Any) -> None:
    code, text = call(info, method, path, body)
    _answers.append((what, body, code, text))
    assert code < 500, (what, body, code, text)
    if code < 300:
        _accepted.append((what, body, text))
        return
    message = message_of(text)
    assert message.strip().lower() not in VAGUE, (what, body, code, text)
    assert len(message) > 15, (what, body, code, text)


# -- building blocks -------------------------------------------------------

junk = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6)
unicode_text = st.text(st.characters(codec='utf-8',
                                     exclude_categories=('Cs',)),
                       min_size=1, max_size=20)
some_uuid = st.uuids().map(str)
flavor_ref = (st.sampled_from(['1', 1, 'http://trove/v1.0/p/flavors/1'])
              | st.sampled_from(['99999', 'nope', -1, 0, '', '../1', '2'])
              | unicode_text | junk)
volume = (st.builds(lambda s: {'size': s}, st.sampled_from(
    [1, '1', 0, -1, '0', 10**9, 2**40, 'ten', None, 1.5, '1e3']))
    | st.just({'type': 'fast'}) | junk)


def nics_of(info: dict[str, Any]) -> st.SearchStrategy:
    net, subnet = info['network']['id'], info['network']['subnet_id']
    return st.one_of(
        st.just([{'net-id': net}]), st.just([{'network_id': net}]),
        st.just([{'subnet_id': subnet}]),
        st.just([{'subnet_id': subnet, 'ip_address': '10.247.1.77'}]),
        some_uuid.map(lambda u: [{'network_id': u}]),
        some_uuid.map(lambda u: [{'subnet_id': u}]),
        st.just([{'ip_address': '10.247.1.78'}]), st.just([{}]),
        st.just([{'net-id': net}, {'net-id': net}]),
        st.just([{'net-id': net, 'network_id': str(uuid.uuid4())}]),
        st.just('net'), st.lists(junk, max_size=2), junk)


def member(info: dict[str, Any]) -> st.SearchStrategy:
    """One instance entry; any field may be missing or wrong."""
    return st.fixed_dictionaries({}, optional={
        'flavorRef': flavor_ref, 'volume': volume, 'nics': nics_of(info),
        'availability_zone': st.sampled_from(['nova', 'az9']) | unicode_text,
        'region_name': st.sampled_from(['RegionOne', 'Mars'])
        | unicode_text,
        'modules': junk, 'name': unicode_text | junk,
        'type': st.sampled_from(['member', 'slave', 'member,slave'])
        | junk})


# -- defects: each body gets one, so none should be accepted ---------------

def _first(instances: list) -> dict:
    return instances[0] if instances and isinstance(instances[0], dict) \
        else {}


MEMBER_DEFECTS = {
    'unknown flavor': lambda m, info: _first(m).update(flavorRef='99999'),
    'negative volume': lambda m, info: _first(m).update(volume={'size': -1}),
    'huge volume': lambda m, info: _first(m).update(
        volume={'size': 10**12}),
    'unknown network': lambda m, info: _first(m).update(
        nics=[{'network_id': str(uuid.uuid4())}]),
    'unknown subnet': lambda m, info: _first(m).update(
        nics=[{'subnet_id': str(uuid.uuid4())}]),
    'nic without network': lambda m, info: _first(m).update(nics=[{}]),
    'address without subnet': lambda m, info: _first(m).update(
        nics=[{'network_id': info['network']['id'],
               'ip_address': '10.247.1.79'}]),
    'no flavor': lambda m, info: _first(m).pop('flavorRef', None),
    'flavor of wrong type': lambda m, info: _first(m).update(
        flavorRef={'id': 1}),
    # Only found once the member is being created (Instance.create).
    'unknown module': lambda m, info: _first(m).update(
        modules=[{'id': str(uuid.uuid4())}]),
    'other region': lambda m, info: _first(m).update(region_name='Mars'),
}


def cluster_create(info: dict[str, Any]) -> st.SearchStrategy:
    def body(instances, name, version, extra, defect):
        cl = {'name': name, 'instances': instances,
              'datastore': {'type': 'k2hdkc', 'version': version}}
        cl.update(extra)
        if defect in MEMBER_DEFECTS:
            if not instances:
                instances.append({'flavorRef': '1'})
            MEMBER_DEFECTS[defect](instances, info)
        elif defect == 'too many members':
            cl['instances'] = [{'flavorRef': '1', 'volume': {'size': 1}}
                               ] * 65
        elif defect == 'no members':
            cl['instances'] = []
        elif defect == 'wrong version':
            cl['datastore']['version'] = 'no-such-version'
        elif defect == 'no name':
            cl.pop('name')
        elif defect == 'members on two networks':
            cl['instances'] = [
                {'flavorRef': '1', 'volume': {'size': 1},
                 'nics': [{'network_id': info['network']['id']}]},
                {'flavorRef': '1', 'volume': {'size': 1}}]
        elif defect == 'extended properties':
            cl['extended_properties'] = {'num_mongos': 1}
        elif defect == 'configuration':
            cl['configuration'] = str(uuid.uuid4())
        elif defect == 'junk instances':
            cl['instances'] = {'flavorRef': '1'}
        return {'cluster': cl}
    defects = sorted(MEMBER_DEFECTS) + [
        'too many members', 'no members', 'wrong version', 'no name',
        'members on two networks', 'extended properties', 'configuration',
        'junk instances']
    return st.builds(
        body, st.lists(member(info), max_size=3),
        st.sampled_from(['bad-input', 'x']) | unicode_text | junk,
        st.just(info['datastore_version']) | unicode_text,
        st.dictionaries(st.sampled_from(['locality', 'junk', 'nics']), junk,
                        max_size=2),
        st.sampled_from(defects))


def cluster_grow(info: dict[str, Any]) -> st.SearchStrategy:
    def body(instances, defect):
        if defect in MEMBER_DEFECTS:
            if not instances:
                instances.append({'flavorRef': '1', 'volume': {'size': 1}})
            MEMBER_DEFECTS[defect](instances, info)
            return {'grow': instances}
        return {
            'other flavor': {'grow': [{'flavorRef': '2',
                                       'volume': {'size': 1}}]},
            'other volume size': {'grow': [{'flavorRef': '1',
                                            'volume': {'size': 3}}]},
            'slave member': {'grow': [{'flavorRef': '1', 'type': 'slave',
                                       'volume': {'size': 1}}]},
            'too many members': {'grow': [{'flavorRef': '1',
                                           'volume': {'size': 1}}] * 70},
            'no members': {'grow': []},
            'not a list': {'grow': {'flavorRef': '1'}},
            'two actions': {'grow': instances, 'restart': {}},
        }[defect]
    defects = sorted(MEMBER_DEFECTS) + [
        'other flavor', 'other volume size', 'slave member',
        'too many members', 'no members', 'not a list', 'two actions']
    return st.builds(body, st.lists(member(info), max_size=3),
                     st.sampled_from(defects))


def cluster_shrink(member_ids: list[str]) -> st.SearchStrategy:
    known = st.sampled_from(member_ids)
    entry = st.one_of(
        known.map(lambda i: {'id': i}), some_uuid.map(lambda i: {'id': i}),
        (unicode_text | junk).map(lambda i: {'id': i}),
        st.just({}), junk)
    return st.one_of(
        # an unknown id among known ones
        st.tuples(st.lists(known, max_size=1), some_uuid).map(
            lambda t: {'shrink': [{'id': i} for i in t[0] + [t[1]]]}),
        # a member named twice
        known.map(lambda i: {'shrink': [{'id': i}, {'id': i}]}),
        # every member (below the minimum)
        st.just({'shrink': [{'id': i} for i in member_ids]}),
        # malformed entries among possibly valid ones
        st.lists(entry, min_size=1, max_size=4).filter(
            lambda es: not all(isinstance(e, dict) and e.get('id')
                               in member_ids for e in es)).map(
            lambda es: {'shrink': es}),
        st.just({'shrink': []}), junk.map(lambda j: {'shrink': j}))


def cluster_upgrade(info: dict[str, Any]) -> st.SearchStrategy:
    return st.one_of(
        (st.sampled_from(['no-such-version', '', '../1']) | unicode_text
         | junk).map(lambda v: {'upgrade': {'datastore_version': v}}),
        st.just({'upgrade': {}}), junk.map(lambda j: {'upgrade': j}),
        st.just({'upgrade': {'datastore_version':
                             info['datastore_version']}, 'grow': []}))


# Not sent: an action body that is not a JSON object or is empty. Trove
# 26's controller answers those 500 before any plugin code runs
# (``ClusterController.get_action_schema`` takes ``list(body)[0]``).
restart_bodies = st.one_of(
    st.just({'restart': {}, 'shrink': []}),
    st.sampled_from(['Restart', 'restart ', 'reboot', 'stop']).map(
        lambda a: {a: {}}),
    st.dictionaries(unicode_text.filter(lambda k: k != 'restart'), junk,
                    min_size=1, max_size=2),
    junk.map(lambda j: {'restart': j, 'upgrade': j}))


# -- the test --------------------------------------------------------------

def product_objects(info: dict[str, Any]) -> list[str]:
    """Every K2HR3 object of this product in the rig tenant."""
    return cluster.k2hr3_objects(info, 'k2hdkc-')


def rig_servers(info: dict[str, Any]) -> list[str]:
    cloud = state.read_cloud(pathlib.Path(info['state_dir']))
    return sorted(cloud['servers'])


def others_gone(rig: Any, cid: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [c['ID'] for c in rig.openstack('database', 'cluster', 'list')
                if c['ID'] != cid]
        if not left:
            return
        time.sleep(3)
    raise AssertionError('clusters left behind: %s' % left)


@pytest.mark.timeout(1500)
def test_generated_bad_requests_answer_4xx_and_leave_nothing(trove_rig):
    info = trove_rig.info
    cid = cluster.create(info, 'bad-input', MEMBERS)['id']
    path = '/clusters/%s' % cid
    try:
        cluster.wait_active(info, cid)
        members = [m['id'] for m in cluster.instances(info, cid)]
        servers = rig_servers(info)

        @seed(SEED)
        @BOUNDED
        @given(st.data())
        def run(data):
            which = data.draw(st.sampled_from(
                ['create', 'grow', 'shrink', 'upgrade', 'restart']))
            body = data.draw({
                'create': cluster_create(info), 'grow': cluster_grow(info),
                'shrink': cluster_shrink(members),
                'upgrade': cluster_upgrade(info),
                'restart': restart_bodies}[which], label=which)
            if which == 'create':
                check(info, which, 'POST', '/clusters', body)
            else:
                check(info, which, 'POST', path, body)

        run()
        codes = sorted({code for _, _, code, _ in _answers})
        print('%d requests, answers %s' % (len(_answers), codes))
        assert not _accepted, 'bodies with a defect were accepted: %s' % (
            _accepted,)

        # Nothing left behind, nothing changed (a create refused part way
        # deletes what it made; give that delete time to end).
        others_gone(trove_rig, cid)
        cluster.wait_active(info, cid)
        assert sorted(m['id'] for m in cluster.instances(info, cid)) == \
            sorted(members)
        assert [c['ID'] for c in trove_rig.openstack(
            'database', 'cluster', 'list')] == [cid]
        listed = trove_rig.openstack('database', 'instance', 'list',
                                     '--include-clustered')
        assert sorted(i['ID'] for i in listed) == sorted(members)
        assert rig_servers(info) == servers
        objects = product_objects(info)
        assert objects and all(cid in o for o in objects), objects
    finally:
        for c in trove_rig.openstack('database', 'cluster', 'list'):
            call(info, 'DELETE', '/clusters/%s' % c['ID'], None)
            cluster.wait_gone(info, c['ID'], timeout=600)
    assert product_objects(info) == []
