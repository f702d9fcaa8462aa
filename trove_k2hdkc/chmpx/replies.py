"""Classification of chmpx's one-line command replies.

Observed replies (tests/data/reference/README.md §4): ``SUCCEED``, ``SUCCEED:
<detail>`` (e.g. ``Already server has been SERVICEOUT.``), ``ERROR:
<reason>`` and ``Unknown command(<cmd>)`` -- the latter without an
``ERROR:`` prefix, yet still a refusal.  Anything else is a reply we do not
understand and must not be taken for success.
"""

from __future__ import annotations

import dataclasses
import re

from trove_k2hdkc.chmpx.errors import CommandRejected
from trove_k2hdkc.chmpx.errors import UnexpectedReply

ALREADY_SERVICE_OUT = 'Already server has been SERVICEOUT.'
NO_SERVER_ON_RING = 'There no server on RING.'

_UNKNOWN_COMMAND_RE = re.compile(r'^Unknown command\(.*\)$')


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """An accepted command; ``reply`` is chmpx's line without newline."""

    reply: str

    @property
    def detail(self) -> str:
        """Text after ``SUCCEED: ``, empty for a bare ``SUCCEED``."""
        return self.reply.partition(':')[2].strip()

    @property
    def already_service_out(self) -> bool:
        """SERVICEOUT found the node already out (or DOWN): nothing done,
        which is what an idempotent caller wanted anyway."""
        return self.detail == ALREADY_SERVICE_OUT

    @property
    def no_server_on_ring(self) -> bool:
        """MERGE sent to a slave: accepted, but nothing to merge."""
        return self.detail == NO_SERVER_ON_RING


def classify_reply(raw: str, *, host: str | None = None,
                   port: int | None = None,
                   command: str | None = None) -> CommandResult:
    """Map one reply to a ``CommandResult`` or raise.

    :raises CommandRejected: ``ERROR: ...`` or ``Unknown command(...)``.
    :raises UnexpectedReply: anything else (empty, several lines, ...).
    """
    ctx = {'host': host, 'port': port, 'command': command}
    text = raw.removesuffix('\n')
    if not text or '\n' in text:
        raise UnexpectedReply('expected a one-line reply', raw, **ctx)
    if text == 'SUCCEED' or text.startswith('SUCCEED:'):
        return CommandResult(reply=text)
    if text.startswith('ERROR:') or _UNKNOWN_COMMAND_RE.match(text):
        raise CommandRejected(text, **ctx)
    raise UnexpectedReply('unknown command reply', raw, **ctx)
