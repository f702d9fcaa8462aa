"""One-line reply classification beyond the captured strings."""

from __future__ import annotations

import pytest

from trove_k2hdkc.chmpx import replies
from trove_k2hdkc.chmpx.errors import CommandRejected
from trove_k2hdkc.chmpx.errors import UnexpectedReply


def test_success_flags():
    assert replies.classify_reply('SUCCEED\n').detail == ''
    out = replies.classify_reply(
        'SUCCEED: Already server has been SERVICEOUT.\n')
    assert out.already_service_out and not out.no_server_on_ring
    assert replies.classify_reply(
        'SUCCEED: There no server on RING.\n').no_server_on_ring


def test_rejections_carry_context():
    with pytest.raises(CommandRejected) as info:
        replies.classify_reply('Unknown command(HELLO)\n', host='h', port=1,
                               command='HELLO')
    assert info.value.reply == 'Unknown command(HELLO)'
    assert (info.value.host, info.value.port) == ('h', 1)


@pytest.mark.parametrize('raw', ['', '\n', 'SUCCEEDED\n', 'OK\n',
                                 'SUCCEED\nSUCCEED\n', 'Version 1.0\n'])
def test_unknown_replies_are_not_success(raw):
    with pytest.raises(UnexpectedReply):
        replies.classify_reply(raw)
