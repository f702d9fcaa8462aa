"""YRN helpers: ``yrn:yahoo:<service>:<region>:<tenant>:<kind>:<path>``."""

from __future__ import annotations

import re

_YRN = re.compile(r'yrn:yahoo:([^:]*):([^:]*):([^:]*):([a-z]+):(.*)$')
ACTION_READ = 'yrn:yahoo::::action:read'


def make(tenant: str, kind: str, path: str) -> str:
    return 'yrn:yahoo:::%s:%s:%s' % (tenant, kind, path)


def parse(text: str) -> tuple[str, str, str] | None:
    """Return (tenant, kind, path) of a service-less YRN, else None."""
    match = _YRN.match(text)
    if not match or match.group(1) or match.group(2):
        return None
    return match.group(3), match.group(4), match.group(5)


def is_yrn(text: str) -> bool:
    return text.startswith('yrn:')


def normalise_path(path: str) -> str:
    """Paths are lower-cased and stripped of surrounding slashes."""
    return path.strip('/').lower()


def resolve(text: str, tenant: str | None, kind: str) -> tuple[str, str]:
    """(tenant, path) from a short path (needs ``tenant``) or a full YRN.

    Raises ValueError when neither form applies.
    """
    if is_yrn(text):
        parsed = parse(text)
        if parsed is None or parsed[1] != kind or not parsed[2]:
            raise ValueError(text)
        return parsed[0], normalise_path(parsed[2])
    if tenant is None or not text.strip('/'):
        raise ValueError(text)
    return tenant, normalise_path(text)
