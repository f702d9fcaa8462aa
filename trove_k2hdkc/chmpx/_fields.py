"""Field values of chmpx status replies: times, hex numbers, flags, and the
``Key = value`` / ``{ }`` block layout of SELFSTATUS.

Private helpers of ``status``; every failure is an ``UnexpectedReply``.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

from trove_k2hdkc.chmpx.errors import UnexpectedReply

#: Hash value chmpx shows for a node that is out of the ring or down.
NO_HASH = 0xffffffffffffffff


_LAST_UPDATE_RE = re.compile(
    r'^(?P<date>\d{4}-\d{2}-\d{2}) (?P<h>\d{1,2})h (?P<m>\d{1,2})m '
    r'(?P<s>\d{1,2})s (?P<ms>\d{1,3})ms (?P<us>\d{1,3})us\((?P<n>\d+)\)$')


@dataclasses.dataclass(frozen=True)
class LastUpdate:
    """chmpx's ``Last Update`` of a node's status.

    ``counter`` is the number in parentheses; despite chmpxstatus calling
    it "(unix time)" it is not one, so it is kept only for ordering.
    ``when`` is the printed time (UTC), ``None`` for a node never up.
    """

    when: datetime.datetime | None
    counter: int

    @property
    def never(self) -> bool:
        return self.counter == 0


def parse_last_update(value: str) -> LastUpdate:
    """Decode ``2026-11-21 23h 55m 34s 802ms 721us(30120225375272865)``."""
    match = _LAST_UPDATE_RE.match(value.strip())
    if not match:
        raise UnexpectedReply('malformed Last Update', value)
    counter = int(match['n'])
    if counter == 0:
        return LastUpdate(when=None, counter=0)
    try:
        day = datetime.date.fromisoformat(match['date'])
        when = datetime.datetime(
            day.year, day.month, day.day, int(match['h']), int(match['m']),
            int(match['s']), int(match['ms']) * 1000 + int(match['us']),
            tzinfo=datetime.UTC)
    except ValueError as exc:
        raise UnexpectedReply(f'malformed Last Update ({exc})',
                              value) from exc
    return LastUpdate(when=when, counter=counter)


_HEX_RE = re.compile(r'^0x[0-9a-fA-F]+$')


def parse_hex(value: str) -> int:
    """An unpadded ``0x...`` number (Internal ID, hash values)."""
    if not _HEX_RE.match(value.strip()):
        raise UnexpectedReply('expected a 0x number', value)
    return int(value.strip(), 16)


def parse_hash(value: str) -> int | None:
    """A base/pending hash; ``None`` for 0xffffffffffffffff (out/down)."""
    number = parse_hex(value)
    return None if number == NO_HASH else number


def parse_int(value: str) -> int:
    text = value.strip()
    if not re.match(r'^-?\d+$', text):
        raise UnexpectedReply('expected an integer', value)
    return int(text)


def parse_yes_no(value: str) -> bool:
    text = value.strip()
    if text not in ('yes', 'no'):
        raise UnexpectedReply('expected yes or no', value)
    return text == 'yes'


def parse_port_socket(value: str) -> tuple[int | None, int | None]:
    """``28020(12)`` -> (28020, 12); a slave's ``-1(n/a)`` -> (None, None).
    """
    match = re.match(r'^(-?\d+)\((\d+|n/a)\)$', value.strip())
    if not match:
        raise UnexpectedReply('expected port(socket)', value)
    port = int(match[1])
    sock = None if match[2] == 'n/a' else int(match[2])
    return (None if port < 0 else port), sock


# A parsed ``Key = value`` block: (key, str value or nested block) pairs in
# reply order.  Keys can repeat (SELFSTATUS Stats has two ``total``).
Block = list[tuple[str, 'str | Block']]


def parse_blocks(raw: str) -> Block:
    """Parse the SELFSTATUS layout: ``Key = value`` lines, where a value of
    ``{`` opens a nested block closed by a line ``}``."""
    root: Block = []
    stack = [root]
    for number, line in enumerate(raw.splitlines(), 1):
        text = line.strip()
        if not text:
            continue
        if text == '}':
            if len(stack) == 1:
                raise UnexpectedReply(f'unbalanced "}}" at line {number}',
                                      raw)
            stack.pop()
            continue
        key, sep, value = text.partition('=')
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise UnexpectedReply(f'no "Key = value" at line {number}',
                                  raw)
        if value == '{':
            child: Block = []
            stack[-1].append((key, child))
            stack.append(child)
        else:
            stack[-1].append((key, value))
    if len(stack) != 1:
        raise UnexpectedReply('unclosed "{" block', raw)
    return root


class Fields:
    """Lookup over one block level that insists on unique, present keys.

    Reading marks a key as used, so callers can reject replies with keys
    missing (format drift) while tolerating new keys chmpx may add.
    """

    def __init__(self, block: Block, raw: str, where: str) -> None:
        self._raw = raw
        self._where = where
        self._values: dict[str, str | Block] = {}
        for key, value in block:
            if key in self._values:
                raise UnexpectedReply(f'key {key!r} repeated in {where}', raw)
            self._values[key] = value

    def text(self, key: str) -> str:
        value = self._values.get(key)
        if not isinstance(value, str):
            raise UnexpectedReply(f'{self._where} has no value {key!r}',
                                  self._raw)
        return value

    def block(self, key: str) -> Fields:
        value = self._values.get(key)
        if not isinstance(value, list):
            raise UnexpectedReply(f'{self._where} has no block {key!r}',
                                  self._raw)
        return Fields(value, self._raw, f'{self._where}/{key}')

    def raw_block(self, key: str) -> Block:
        value = self._values.get(key)
        if not isinstance(value, list):
            raise UnexpectedReply(f'{self._where} has no block {key!r}',
                                  self._raw)
        return value
