"""Numeric limits of chmpx and k2hdkc configuration values.

One table for three readers: the guest's INI check (``ini``), the
``[k2hdkc]`` options (a trove.conf value chmpx would refuse fails when the
service starts) and the ring parameters recorded in K2HR3 (a record the
project's user rewrote is refused by the API, before any node sees it).
The bounds follow chmpx's own (``lib/chmstructure.h``: MAX_CHMPX_COUNT,
MAX_SERVER_MQ_CNT, MAX_QUEUE_PER_SERVERMQ, ...) and the k2hdkc/chmpx
operation notes where the programs misbehave beyond them.
"""

from __future__ import annotations

#: chmpx keeps ports in a signed 16-bit field: a larger one wraps.
MIN_PORT, MAX_PORT = 1, 32767
#: chmpx and k2hdkc read numbers into a C ``int``.
INT_MAX = 2 ** 31 - 1

#: ``(section, key) -> (low, high)``; other integer keys are 0-INT_MAX.
BOUNDS: dict[tuple[str, str], tuple[int, int]] = {
    ('GLOBAL', 'MAXCHMPX'): (1, 32768),
    ('GLOBAL', 'MAXMQSERVER'): (1, 128),
    ('GLOBAL', 'MAXMQCLIENT'): (1, 32640),
    ('GLOBAL', 'MQPERATTACH'): (1, 128),
    ('GLOBAL', 'MAXQPERSERVERMQ'): (1, 128),
    ('GLOBAL', 'MAXQPERCLIENTMQ'): (1, 128),
    ('GLOBAL', 'MAXMQPERCLIENT'): (1, 128),
    ('GLOBAL', 'MAXHISTLOG'): (0, 32768),
    ('GLOBAL', 'REPLICA'): (0, 32768),
    ('GLOBAL', 'SOCKTHREADCNT'): (0, 1024),
    ('GLOBAL', 'MQTHREADCNT'): (0, 1024),
    ('GLOBAL', 'MAXSOCKPOOL'): (1, 1024),
    ('GLOBAL', 'K2HMASKBIT'): (2, 28),
    ('GLOBAL', 'K2HCMASKBIT'): (1, 28),
    ('GLOBAL', 'K2HMAXELE'): (1, INT_MAX),
    ('K2HDKC', 'RCVTIMEOUT'): (1, INT_MAX),
    ('K2HDKC', 'DTORTHREADCNT'): (0, 64),
    ('K2HDKC', 'K2HMASKBIT'): (2, 28),
    ('K2HDKC', 'K2HCMASKBIT'): (1, 28),
    ('K2HDKC', 'K2HMAXELE'): (1, INT_MAX),
    ('K2HDKC', 'K2HPAGESIZE'): (1, INT_MAX),
    ('K2HDKC', 'MINTHREAD'): (1, 1024),
    ('K2HDKC', 'MAXTHREAD'): (1, 1024),
}


def bounds(section: str, key: str) -> tuple[int, int]:
    """The values chmpx/k2hdkc take for the integer ``key``."""
    return BOUNDS.get((section, key), (0, INT_MAX))


def high(section: str, key: str) -> int:
    return bounds(section, key)[1]
