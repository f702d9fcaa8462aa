"""The rig client's reading of k2hdkclinetool results (tests/rig/dataset.py):
parsed against captures of the real tool, and the retry of writes and
re-read of keys against fake runs."""

from __future__ import annotations

import pytest

from tests.rig import dataset
from tests.rig import slave

NORES = '[ERR] RESULT CODE(DKC_RES_NORESTYPE - DKC_RES_SUBCODE_NORESTYPE)'


def _capture(reference_dir, name):
    return (reference_dir / 'k2hdkc' / name).read_text()


def test_found_and_absent_values_of_the_real_tool(reference_dir):
    out = _capture(reference_dir, 'k2hdkclinetool_basic.out')
    reads = dataset.parse_print(out, ['renkey-dst', 'renkey-src',
                                      'key with space', 'never-printed'])
    assert reads.values == {'renkey-dst': 'renval',
                            'key with space': 'value with space'}
    assert reads.absent == {'renkey-src'}
    assert reads.failed == {'never-printed'}


def test_later_print_of_a_key_wins(reference_dir):
    # key1 is printed with a value, then removed and printed not found.
    out = _capture(reference_dir, 'k2hdkclinetool_basic.out')
    assert dataset.parse_print(out, ['key1']).absent == {'key1'}


def test_failed_reads_print_no_result_line(reference_dir):
    """k2hdkc stopped on a node: every print printed only [ERR] lines
    (stdout and stderr captured together here)."""
    out = _capture(reference_dir,
                   'k2hdkclinetool_while_node3_k2hdkc_stopped.out')
    reads = dataset.parse_print(out, ['suspkey1', 'key-a', 'key-b'])
    assert reads.values == {} and reads.absent == frozenset()
    assert reads.failed == {'suspkey1', 'key-a', 'key-b'}


def test_keys_of_a_node_that_is_down_read_as_absent(reference_dir):
    out = _capture(reference_dir, 'k2hdkclinetool_while_node3_chmpx_down.out')
    reads = dataset.parse_print(out, ['tkey-0', 'tkey-1', 'downkey1'])
    assert reads.values == {'tkey-0': 'tval', 'downkey1': 'dv1'}
    assert reads.absent == {'tkey-1'}


class FakeTool:
    """A linetool run over a dict; the keys in ``failing`` fail their
    next ``times`` sets (nothing stored, [ERR] on stderr). With
    ``empty_after_rm`` a print of a key removed earlier in the same run
    shows an empty value, as real k2hdkc did with a member down."""

    def __init__(self, failing=(), times=1, empty_after_rm=False):
        self.store = {}
        self.failing = dict.fromkeys(failing, times)
        self.empty_after_rm = empty_after_rm
        self.scripts = []

    def __call__(self, commands):
        self.scripts.append(list(commands))
        out, err = [], []
        removed = set()
        for line in commands:
            word, key, *rest = line.split()
            if word == 'set' and self.failing.get(key):
                self.failing[key] -= 1
                err.append(NORES)
            elif word == 'set':
                self.store[key] = rest[0]
            elif word == 'rm':
                self.store.pop(key, None)
                removed.add(key)
            elif self.empty_after_rm and key in removed:
                out.append('"%s" => ""' % key)
            elif key in self.store:
                out.append('"%s" => "%s"' % (key, self.store[key]))
            else:
                out.append('"%s" => value is not found' % key)
        return '\n'.join(out), '\n'.join(err)


def test_a_failed_write_is_retried_until_it_reads_back():
    tool = FakeTool(failing=['key-00003'], times=2)
    data = dataset.DataSet.make(20)
    retries = dataset.write(tool, data.load_commands(), sleep=lambda s: None)
    assert retries == 2
    assert tool.store == {k: v for k, v in data.expected().items() if v}
    retry = ['set key-00003 value-00003', 'print key-00003']
    assert tool.scripts.count(retry) == 2


def test_a_write_that_keeps_failing_fails_loudly():
    tool = FakeTool(failing=['key-00003'], times=9)
    with pytest.raises(dataset.WriteFailed, match='key-00003') as info:
        dataset.write(tool, ['set key-00003 v', 'set key-00004 v'],
                      sleep=lambda s: None)
    assert info.value.commands == ['set key-00003 v']
    assert NORES in str(info.value)


def test_an_rm_read_back_empty_in_its_own_run_is_read_again():
    """Real k2hdkc with a ring member down (by hand, 2026-12): the print
    right after an rm in the same run showed an empty value; a run of
    print alone then found the key gone. The rig's dead-member test had
    failed on three such rm, each tried three times."""
    tool = FakeTool(empty_after_rm=True)
    retries = dataset.write(tool, ['set a 1', 'set b 2', 'rm a'],
                            sleep=lambda s: None)
    assert retries == 0
    assert tool.store == {'b': '2'}
    assert tool.scripts[-1] == ['print a']


def test_a_write_that_still_does_not_read_back_is_written_again():
    tool = FakeTool(failing=['k'], times=1)
    assert dataset.write(tool, ['set k v'], sleep=lambda s: None) == 1
    assert tool.scripts == [['set k v', 'print k'], ['print k'],
                            ['set k v', 'print k']]


def test_a_set_and_a_later_rm_of_one_key_are_checked_apart():
    tool = FakeTool()
    dataset.write(tool, ['set a 1', 'set b 2', 'rm a'],
                  sleep=lambda s: None)
    assert tool.store == {'b': '2'}
    assert len(tool.scripts) == 2


def _reader(answers):
    """A reader that answers the n-th read of a key with answers[key][n]
    (the last answer repeats): a value, 'absent' or 'failed'."""
    seen = {}

    def read(keys):
        values, absent, failed = {}, set(), set()
        for key in keys:
            plan = answers.get(key, ['value-' + key.split('-')[1]])
            got = plan[min(seen.get(key, 0), len(plan) - 1)]
            seen[key] = seen.get(key, 0) + 1
            {'absent': absent, 'failed': failed}.get(got, set()).add(key)
            if got not in ('absent', 'failed'):
                values[key] = got
        return dataset.Reads(values, frozenset(absent), frozenset(failed))
    return read


def test_reader_tells_lost_keys_from_transient_read_errors():
    data = dataset.DataSet.make(30)
    report = dataset.check(data, _reader({
        'key-00001': ['failed', 'value-00001'],     # transient read error
        'key-00002': ['absent', 'value-00002'],     # read late
        'key-00003': ['absent'],                    # lost
        'key-00004': ['failed'],                    # never readable
        'key-00010': ['failed', 'absent'],          # deleted, read late
    }), sleep=lambda s: None)
    assert report.missing == ('key-00003',)
    assert report.unreadable == ('key-00004',)
    assert report.transient == ('key-00001', 'key-00002', 'key-00010')
    assert not report.ok
    assert '1 lost' in str(report) and '3 needed a re-read' in str(report)


def test_reader_rereads_a_bounded_number_of_times():
    calls = []
    read = _reader({'key-00003': ['absent']})
    dataset.check(dataset.DataSet.make(10),
                  lambda keys: calls.append(list(keys)) or read(keys),
                  rereads=3, sleep=lambda s: None)
    assert calls[1:] == [['key-00003']] * 3


def _slave(tool):
    """A RigSlave whose linetool runs are ``tool`` (no node behind it)."""
    node = slave.RigSlave.__new__(slave.RigSlave)
    node.linetool = tool
    return node


def test_the_client_reads_a_large_data_set_in_bounded_runs():
    """One run of 10,000 prints on the real programs outlasted the run's
    300 s limit on the loaded machine: reads go in runs of BATCH."""
    data = dataset.DataSet.make(2 * dataset.BATCH + 5)
    tool = FakeTool()
    tool(data.load_commands())
    tool.scripts.clear()
    report = dataset.check(data, _slave(tool).values)
    assert report.ok and report.total == len(data.values) - len(
        data.deleted)
    assert [len(s) for s in tool.scripts] == [
        dataset.BATCH, dataset.BATCH, 5]


def test_the_client_writes_a_large_data_set_in_bounded_runs():
    data = dataset.DataSet.make(dataset.BATCH + 3)
    tool = FakeTool()
    assert _slave(tool).run(data.load_commands()) == 0
    assert tool.store == {k: v for k, v in data.expected().items() if v}
    # Each write is followed by its print: a run holds BATCH lines.
    assert max(len(s) for s in tool.scripts) <= dataset.BATCH
