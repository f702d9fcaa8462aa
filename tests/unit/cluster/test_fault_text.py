"""A cluster fault longer than Trove's ``instance_faults`` columns is
stored through Trove's own ``save_instance_fault`` with its start (the
step that failed) and its end (how the cluster ended) in the 255-character
message, and a details text that fits the column's 65,535 bytes
(``trove_k2hdkc.faulttext``)."""

from __future__ import annotations

import pytest
from trove.instance.models import DBInstance
from trove.instance.models import DBInstanceFault
from trove.instance.tasks import InstanceTasks

from tests.unit.cluster.fakering import Ring
from tests.unit.cluster.test_taskmanager import CLUSTER
from tests.unit.cluster.test_taskmanager import FakeRegistry
from tests.unit.cluster.test_taskmanager import make_tasks
from trove_k2hdkc import faulttext

START = 'shrink failed: shrink: merge (after restarting inst-2): no progress'
END = ("then, from the ring's state: finished the merge of the ring and "
       "purged every member; the cluster is serving with 2 members in the "
       "ring (6a4f2c1e-0b1d-4c55-9a53-6d1f0e2b7a01, "
       "6a4f2c1e-0b1d-4c55-9a53-6d1f0e2b7a02)")


# what the message's end must keep of END
SERVING = END[END.index('the cluster is serving'):]


def _words(text):
    """Trove's format_output breaks lines at '. ', ' (' and ': '."""
    return ' '.join(text.split())


def _long(middle_repeats):
    middle = ''.join('inst-%d 0x1021, seen as 0x3021: ' % i
                     for i in range(middle_repeats))
    return '%s for 300s: %s; %s' % (START, middle, END)


@pytest.fixture
def members(trove_db):
    ids = []
    for n in range(2):
        db = DBInstance.create(name='m%d' % n, flavor_id='7', tenant_id='p',
                               volume_size=1, datastore_version_id='dsv',
                               task_status=InstanceTasks.NONE,
                               compute_instance_id='srv-%d' % n,
                               cluster_id=CLUSTER)
        ids.append(db.id)
    return ids


def _stored(ids, text):
    ring = Ring()
    tasks = make_tasks(ring, FakeRegistry(ring), ids)
    tasks._record_fault(CLUSTER, text)
    return [DBInstanceFault.find_by(instance_id=i, deleted=False)
            for i in ids]


def test_a_long_fault_keeps_its_start_and_its_end(members):
    text = _long(10)
    assert len(text) > 2 * faulttext.MESSAGE_CHARS
    for fault in _stored(members, text):
        assert len(fault.message) <= faulttext.MESSAGE_CHARS
        message = _words(fault.message)
        assert message.startswith(_words(START)), message
        assert message.endswith(_words(SERVING)), message
        assert faulttext.GAP.strip() in message
        # the whole text is in the details
        assert _words(fault.details) == _words(text)


def test_an_overlong_fault_still_fits_the_details_column(members):
    """Also: Trove's format_output recursed once per ': ' of this
    one-line text and the fault was not saved at all."""
    text = _long(3000)
    assert len(text.encode()) > faulttext.DETAILS_BYTES
    for fault in _stored(members, text):
        assert len(fault.details.encode()) <= faulttext.DETAILS_BYTES
        details = _words(fault.details)
        assert details.startswith(_words(START))
        assert details.endswith(_words(END))
        assert _words(fault.message).endswith(_words(SERVING))


def test_the_message_keeps_the_outcome_of_a_resume(members):
    """The rig's resume test reads both ends in ``instance show``: the
    last clause, with four member ids, is kept whole."""
    ids = ', '.join('6a4f2c1e-0b1d-4c55-9a53-6d1f0e2b7a0%d' % i
                    for i in range(4))
    text = ('grow interrupted by a taskmanager restart at the merge of the '
            'ring (SERVICEIN/SERVICEOUT done, k2hdkc restarts, MERGE or '
            'COMPMERGE); resumed: finished the merge of the ring and purged '
            'every member; the cluster is serving with 4 members in the '
            'ring (%s)' % ids)
    for fault in _stored(members, text):
        message = _words(fault.message)
        assert len(fault.message) <= faulttext.MESSAGE_CHARS
        assert message.startswith('grow interrupted by a taskmanager '
                                  'restart'), message
        assert message.endswith('the cluster is serving with 4 members in '
                                'the ring (%s)' % ids), message


def test_a_short_fault_is_stored_as_it_is(members):
    text = 'grow failed: wait for members: member m1 will not become ready'
    for fault in _stored(members, text):
        assert fault.message == fault.details == text


def test_shorten_gives_the_longest_start_and_end_that_fits():
    text = 'a' * 50 + 'b' * 50
    cut = faulttext.shorten(text, lambda s: len(s) <= 45)
    assert len(cut) == 45
    assert cut.startswith('a' * 16) and cut.endswith('b' * 24)
    assert faulttext.shorten(text, lambda s: True) == text

