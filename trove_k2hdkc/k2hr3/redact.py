"""Keep K2HR3 secrets out of logs, reprs and exception text.

K2HR3 puts tokens into some error messages (``token(<t>) is not existed``)
and the role-token revoke URL carries the token itself, so every text that
leaves the client passes through ``Redactor.scrub``: it blanks the secrets
this client has seen plus anything shaped like a K2HR3 token.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = '***'

# K2HR3 tokens are 64 hex digits; messages quote them as token(...) or
# token="...".
_GENERIC = (
    (re.compile(r'(token\()[^)]*(\))', re.IGNORECASE), r'\1' + MASK + r'\2'),
    (re.compile(r'(token\s*[=:]\s*"?)[^",\s)]+', re.IGNORECASE),
     r'\1' + MASK),
    (re.compile(r'(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])'), MASK),
    (re.compile(r'(/v1/role/token/)(?!list/)[^?\s"]+'), r'\1' + MASK),
    (re.compile(r'((?:x-auth-token|authorization)["\']?\s*[:=]\s*["\']?)'
                r'[^"\',\s}]+', re.IGNORECASE), r'\1' + MASK),
)

# Shorter strings are not treated as secrets: masking them would mangle
# ordinary text and they are not K2HR3/Keystone tokens anyway.
_MIN_SECRET_LEN = 8


class Redactor:
    """Thread-safe set of known secrets plus generic token patterns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()

    def add(self, *secrets: str | None) -> None:
        new = {s for s in secrets if s and len(s) >= _MIN_SECRET_LEN}
        if not new:
            return
        with self._lock:
            self._secrets = self._secrets | new

    def scrub(self, text: object) -> str:
        if text is None:
            return ''
        out = str(text)
        # Longest first so that a token containing another is fully masked.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in out:
                out = out.replace(secret, MASK)
        return scrub_generic(out)


def scrub_generic(text: str) -> str:
    """Mask token-shaped substrings without knowing the secrets."""
    for pattern, repl in _GENERIC:
        text = pattern.sub(repl, text)
    return text


class _Urllib3Filter(logging.Filter):
    """urllib3 logs request lines at DEBUG; the revoke URL holds a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                scrub_generic(a) if isinstance(a, str) else a
                for a in record.args)
        if isinstance(record.msg, str):
            record.msg = scrub_generic(record.msg)
        return True


_FILTER = _Urllib3Filter()


def install_urllib3_filter() -> None:
    """Attach the filter once to the urllib3 loggers that print URLs."""
    for name in ('urllib3.connectionpool', 'urllib3.connection'):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
