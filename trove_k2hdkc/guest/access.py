"""The K2HR3 access of this node, as the guest receives and keeps it.

The model is ``k2hr3.access.NodeAccess``; here malformed access becomes a
``GuestNodeError`` (the guest's error branch) and the access is stored in
a 0600 file created with that mode (never widened, never half written),
because the role token is the node's only credential to K2HR3.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
import os
import pathlib
from typing import Any

from trove_k2hdkc.guest import errors
from trove_k2hdkc.guest.fileutil import atomic_write
from trove_k2hdkc.k2hr3.access import NodeAccess
from trove_k2hdkc.k2hr3.errors import K2hr3ValueError
from trove_k2hdkc.k2hr3.transport import check_url

ACCESS_FILE = 'k2hr3-access.json'


def node_access(fields: Mapping[str, Any], what: str, *,
                allow_http: bool = False) -> NodeAccess:
    """``fields`` as access; ``GuestNodeError`` naming ``what`` (where
    the fields came from) if they are malformed or name a plain-http
    K2HR3 this guest's own ``[k2hdkc] k2hr3_allow_insecure_http`` does
    not allow: the role token would travel unencrypted."""
    try:
        access = NodeAccess.from_rpc(**fields)
        check_url(access.k2hr3_url, allow_http)
    except (K2hr3ValueError, TypeError) as exc:
        # TypeError: a key that is not a string; the text names no value.
        raise errors.GuestNodeError('%s: %s' % (what, exc)) from None
    return access


class AccessStore:
    """Persists one ``NodeAccess`` as JSON in ``<directory>/<name>``."""

    def __init__(self, directory: str | os.PathLike,
                 name: str = ACCESS_FILE) -> None:
        self.path = pathlib.Path(directory) / name

    def save(self, access: NodeAccess) -> None:
        data = json.dumps(access.kwargs(), sort_keys=True)
        atomic_write(self.path, data.encode(), mode=0o600)

    def load(self) -> NodeAccess:
        try:
            raw = self.path.read_text()
        except FileNotFoundError:
            raise errors.NotConfiguredError(
                'no K2HR3 access stored on this node: call configure_node '
                'first') from None
        try:
            return NodeAccess.from_rpc(**json.loads(raw))
        except (ValueError, TypeError) as exc:
            raise errors.NotConfiguredError(
                'the stored K2HR3 access file %s is unreadable (%s); call '
                'configure_node again' % (self.path, type(exc).__name__)
            ) from None

    def exists(self) -> bool:
        return self.path.is_file()
