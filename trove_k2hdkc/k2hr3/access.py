"""The K2HR3 access handed to a node: its INI resource, role and token.

One model for both ends of ``configure_node``: the control plane builds
it from the layout it provisioned and sends ``kwargs()``; the guest
rebuilds it with ``from_rpc`` so malformed access is refused before any
K2HR3 call.  The role token is the node's only credential to K2HR3, so
it never appears in ``repr`` or in an error text.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from trove_k2hdkc.k2hr3.errors import K2hr3ValueError


class InvalidAccessError(K2hr3ValueError):
    """Access with a field missing, unknown, empty or not a string."""


@dataclasses.dataclass(frozen=True)
class NodeAccess:
    """What ``configure_node`` needs; ``role_token`` is secret."""

    k2hr3_url: str
    resource_yrn: str
    role_yrn: str
    role_token: str = dataclasses.field(repr=False)

    @classmethod
    def from_rpc(cls, **kwargs: Any) -> NodeAccess:
        """The access in ``kwargs``; ``InvalidAccessError`` if malformed."""
        names = [f.name for f in dataclasses.fields(cls)]
        if sorted(kwargs) != sorted(names):
            raise InvalidAccessError(
                'K2HR3 access must hold exactly %s' % ', '.join(names))
        for name in names:
            if not isinstance(kwargs[name], str) or not kwargs[name]:
                raise InvalidAccessError(
                    'K2HR3 access needs a non-empty %s' % name)
        return cls(**kwargs)

    def kwargs(self) -> dict[str, str]:
        """The keyword arguments of the ``configure_node`` RPC."""
        return dataclasses.asdict(self)
