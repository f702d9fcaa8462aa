"""Errors of the CHMPX branch.

::

    K2hdkcError
    ├── ControlPortError            anything that went wrong on a control port
    │   ├── ControlPortTimeout      no complete reply in time (peer kept open)
    │   ├── ControlPortUnavailable  refused / reset / unreachable: chmpx down
    │   ├── CommandRejected         chmpx answered ``ERROR: ...`` or
    │   │                           ``Unknown command(...)``
    │   └── UnexpectedReply         a reply our parsers do not understand
    └── InvalidIniError             a CHMPX/K2HDKC INI that must not be written
        └── UntrustedIniError       ... because a value is not one this
                                    guest vouches for (path, group, port,
                                    plugin)

Callers branch on meaning: a guest polling its own node treats
``ControlPortUnavailable`` as "chmpx not running", a procedure treats
``CommandRejected`` as "the ring refused this step now".
"""

from __future__ import annotations

from collections.abc import Iterable

from trove_k2hdkc.exceptions import K2hdkcError

_RAW_PREVIEW = 200


class ControlPortError(K2hdkcError):
    """A control-port exchange failed; ``host``/``port``/``command`` say
    which one (the command is the verb only, never its argument)."""

    def __init__(self, message: str, *, host: str | None = None,
                 port: int | None = None,
                 command: str | None = None) -> None:
        where = ''
        if host is not None and port is not None:
            where = f' ({command or "command"} to {host}:{port})'
        super().__init__(message + where)
        self.host = host
        self.port = port
        self.command = command


class ControlPortTimeout(ControlPortError):
    """Connect, send or read did not finish within the timeout."""


class ControlPortUnavailable(ControlPortError):
    """The connection was refused, reset or could not be made.

    chmpx listens on its control port for its whole life, so a refused
    connection means the process is not running (or is exiting).
    """


class CommandRejected(ControlPortError):
    """chmpx refused the command; ``reply`` is its one-line answer."""

    def __init__(self, reply: str, **kwargs) -> None:
        super().__init__(f'chmpx rejected the command: {reply}', **kwargs)
        self.reply = reply


class UnexpectedReply(ControlPortError):
    """A reply that does not have the format we know; ``raw`` keeps it."""

    def __init__(self, message: str, raw: str, **kwargs) -> None:
        preview = raw if len(raw) <= _RAW_PREVIEW else (
            raw[:_RAW_PREVIEW] + '...')
        super().__init__(f'{message}; reply was {preview!r}', **kwargs)
        self.reason = message
        self.raw = raw


class InvalidIniError(K2hdkcError, ValueError):
    """A CHMPX/K2HDKC INI failed validation; ``problems`` lists every
    defect found, so one round trip fixes them all."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        plural = '' if count == 1 else 's'
        super().__init__(f'invalid CHMPX INI ({count} problem{plural}): '
                         + '; '.join(self.problems))


class UntrustedIniError(InvalidIniError):
    """An INI whose values the guest will not act on: a file outside its
    data directory, another GROUP, a foreign port, a plugin key
    (doc/k2hr3-layout.md §5).  ``problems`` name keys, never values."""
