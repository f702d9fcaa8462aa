"""The K2HR3 access of this node: where to read its INI and the role token.

The token is the node's only credential to K2HR3.  It is stored in a 0600
file created with that mode (never widened, never half written) and it is
kept out of ``repr``, logs and exception texts.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib

from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.fileutil import atomic_write

ACCESS_FILE = 'k2hr3-access.json'


@dataclasses.dataclass(frozen=True)
class K2hr3Access:
    """What ``configure_node`` hands over; ``role_token`` is secret."""

    k2hr3_url: str
    resource_yrn: str
    role_yrn: str
    role_token: str = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        for field in ('k2hr3_url', 'resource_yrn', 'role_yrn', 'role_token'):
            if not isinstance(getattr(self, field), str) or \
                    not getattr(self, field):
                raise errors.GuestNodeError(
                    'configure_node needs a non-empty %s' % field)


class AccessStore:
    """Persists one ``K2hr3Access`` as JSON in ``<directory>/<name>``."""

    def __init__(self, directory: str | os.PathLike,
                 name: str = ACCESS_FILE) -> None:
        self.path = pathlib.Path(directory) / name

    def save(self, access: K2hr3Access) -> None:
        data = json.dumps(dataclasses.asdict(access), sort_keys=True)
        atomic_write(self.path, data.encode(), mode=0o600)

    def load(self) -> K2hr3Access:
        try:
            raw = self.path.read_text()
        except FileNotFoundError:
            raise errors.NotConfiguredError(
                'no K2HR3 access stored on this node: call configure_node '
                'first') from None
        try:
            return K2hr3Access(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise errors.NotConfiguredError(
                'the stored K2HR3 access file %s is unreadable (%s); call '
                'configure_node again' % (self.path, type(exc).__name__)
            ) from None

    def exists(self) -> bool:
        return self.path.is_file()
