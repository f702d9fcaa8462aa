"""Every control-port capture goes through the parser of its command."""

from __future__ import annotations

import pytest

from tests.unit.chmpx import captures
from trove_k2hdkc.chmpx import replies
from trove_k2hdkc.chmpx import status
from trove_k2hdkc.chmpx.errors import CommandRejected

_ALL = captures.all_captures()
_ONE_LINE = [c for c in _ALL
             if c.command not in ('SELFSTATUS', 'ALLSTATUS', 'DUMP',
                                  'VERSION')]


def _ids(items):
    return [c.id for c in items]


def test_every_capture_file_is_discovered(reference_dir):
    root = reference_dir / captures.CONTROL_PORT
    on_disk = {p for p in root.rglob('*.txt') if p.name != 'timeline.txt'}
    assert len(on_disk) > 100
    assert on_disk == {c.path for c in _ALL}


@pytest.mark.parametrize('capture', captures.captures_for('SELFSTATUS'),
                         ids=_ids(captures.captures_for('SELFSTATUS')))
def test_selfstatus_capture_parses(capture):
    parsed = status.parse_self_status(capture.text())
    assert parsed.ring_name == 'mydkc'
    assert parsed.server_name == 'dkc-node.example.net'
    assert parsed.status.text in capture.text()
    assert parsed.is_server == (parsed.ctlport != 28031)
    if capture.statuses is not None:
        assert capture.statuses == (parsed.status.text,)


@pytest.mark.parametrize('capture', captures.captures_for('ALLSTATUS'),
                         ids=_ids(captures.captures_for('ALLSTATUS')))
def test_allstatus_capture_parses(capture):
    parsed = status.parse_all_status(capture.text())
    assert parsed.ring_name == 'mydkc'
    assert len(parsed.servers) in (3, 4)
    assert [s.number for s in parsed.servers] == list(
        range(1, len(parsed.servers) + 1))
    # Config order: ctlports 28021, 28023, ...
    assert [s.ctlport for s in parsed.servers] == [
        28021 + 2 * i for i in range(len(parsed.servers))]
    texts = [s.status.text for s in parsed.servers]
    assert texts == [line.split('= ', 1)[1] for line in
                     capture.text().splitlines() if 'Server Status' in line]
    if capture.statuses is not None:
        assert tuple(texts) == capture.statuses


@pytest.mark.parametrize('capture', captures.captures_for('VERSION'),
                         ids=_ids(captures.captures_for('VERSION')))
def test_version_capture_parses(capture):
    parsed = status.parse_version(capture.text())
    assert (parsed.version, parsed.commit, parsed.tls) == (
        '1.0.109', '8ad99bf', 'OpenSSL')
    assert parsed.version_tuple == (1, 0, 109)


@pytest.mark.parametrize('capture', captures.captures_for('DUMP'),
                         ids=_ids(captures.captures_for('DUMP')))
def test_dump_capture_is_not_a_status_reply(capture):
    # DUMP stays raw; make sure no status parser silently accepts it.
    with pytest.raises(status.UnexpectedReply):
        status.parse_all_status(capture.text())


@pytest.mark.parametrize('capture', _ONE_LINE, ids=_ids(_ONE_LINE))
def test_one_line_reply_classification(capture):
    text = capture.text()
    assert text.endswith('\n') and text.count('\n') == 1
    if text.startswith('SUCCEED'):
        result = replies.classify_reply(text)
        assert result.reply == text[:-1]
    else:
        with pytest.raises(CommandRejected) as info:
            replies.classify_reply(text)
        assert info.value.reply == text[:-1]
