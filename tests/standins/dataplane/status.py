"""chmpx status words: bits, strings and the ``Last Update`` format.

Why: the control port's status lines are what the guest agent parses, so
the stand-in must produce exactly the strings the real chmpx prints
(tests/data/reference/README.md §4).
"""

from __future__ import annotations

import dataclasses
import time

RING_BITS = {'SLAVE': 0x0, 'OUT': 0x10, 'IN': 0x20}
RING_TEXT = {'SLAVE': 'SLAVE', 'OUT': 'SERVICE OUT', 'IN': 'SERVICE IN'}
ACTION_BITS = {'': 0, 'ADD': 0x100, 'DELETE': 0x200}
OPERATE_BITS = {'': 0, 'Pending': 0x1000, 'Doing': 0x2000, 'Done': 0x3000}


@dataclasses.dataclass
class State:
    ring: str = 'OUT'
    up: bool = True
    action: str = ''
    operate: str = ''
    suspend: bool = False
    last: int = 0  # microseconds since the epoch; 0 = never up

    def code(self) -> int:
        return ((1 if self.up else 0) | RING_BITS[self.ring]
                | ACTION_BITS[self.action] | OPERATE_BITS[self.operate]
                | (0x10000 if self.suspend else 0))

    def words(self) -> str:
        return 'SAFE -> [%s][%s][%s][%s][%s]' % (
            RING_TEXT[self.ring], 'UP' if self.up else 'DOWN',
            self.action or 'n/a', self.operate or 'Nothing',
            'Suspend' if self.suspend else 'NoSuspend')

    def text(self) -> str:
        return '0x%x(%s)' % (self.code(), self.words())

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> State:
        return cls(**data)

    def copy(self) -> State:
        return dataclasses.replace(self)

    @property
    def in_base(self) -> bool:
        """Holds a base hash (SERVICE IN family, not joining)."""
        return self.ring == 'IN' and self.action != 'ADD'

    @property
    def in_pending(self) -> bool:
        return self.ring == 'IN' and self.action != 'DELETE'

    @property
    def servicing(self) -> bool:
        """Whether the slave may route requests to this server."""
        return (self.ring == 'IN' and self.up and not self.suspend
                and self.action != 'ADD'
                and (self.action == 'DELETE' or self.operate == ''))


def stamp(us: int) -> int:
    """The number chmpx prints in parentheses: seconds << 24 | usec."""
    return ((us // 1000000) << 24) | (us % 1000000)


def last_update(us: int) -> str:
    sec, usec = divmod(us, 1000000)
    tm = time.gmtime(sec)
    return '%04d-%02d-%02d %02dh %02dm %02ds %dms %dus(%d)' % (
        tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min,
        tm.tm_sec, usec // 1000, usec % 1000, stamp(us))


def hexhash(value: int) -> str:
    return '0x%x' % (value & 0xffffffffffffffff)
