"""Errors of the K2HR3 client.

One branch of the plugin's tree: callers catch ``K2hr3Error`` for "K2HR3
could not do it" and look at ``K2hr3HTTPError.status`` when the reason
matters. Every text that reaches an attribute here has been scrubbed of
tokens first (see ``redact``), because K2HR3 echoes tokens in messages.
"""

from __future__ import annotations

from trove_k2hdkc.exceptions import K2hdkcError


class K2hr3Error(K2hdkcError):
    """Base of every K2HR3 client error."""


class K2hr3ValueError(K2hr3Error, ValueError):
    """A name, id or argument that must not reach a K2HR3 URL."""


class K2hr3ConnectionError(K2hr3Error):
    """No usable reply: connection refused/dropped, timeout or TLS."""


class K2hr3ProtocolError(K2hr3Error):
    """A reply whose shape is not the documented one."""


class K2hr3HTTPError(K2hr3Error):
    """K2HR3 answered with an error status or ``"result": false``.

    ``path`` and ``message`` are already scrubbed; ``status`` may be a 2xx
    when the body said ``result: false``.
    """

    def __init__(self, status: int, method: str, path: str,
                 message: str | None) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.message = message
        super().__init__('K2HR3 %s %s failed with HTTP %d: %s'
                         % (method, path, status, message or '(no message)'))

    @property
    def is_client_error(self) -> bool:
        return 400 <= self.status < 500


class K2hr3LeftBehindError(K2hr3Error):
    """Objects that should be gone are still in K2HR3, checked through the
    API after the deletes; ``objects`` names each one (never a token)."""

    def __init__(self, objects: list[str] | tuple[str, ...], *,
                 transient: bool = False) -> None:
        self.objects = tuple(objects)
        #: Some delete was refused by a transient failure, so running the
        #: teardown again may well remove what is left.
        self.transient = transient
        super().__init__('K2HR3 still holds: %s' % ', '.join(self.objects))


def is_transient(exc: BaseException) -> bool:
    """A failure that may pass if the same call is made later: no reply
    (connection, timeout), a 5xx, a 401, or objects left behind because of
    such a failure. Other 4xx and malformed replies will not change.

    A 401 is here because K2HR3 answers it to every token while its own
    K2HDKC store is down ("token(...) is not existed"), just as to a wrong
    token; only a later call tells them apart (doc/k2hr3-layout.md §4)."""
    if isinstance(exc, K2hr3LeftBehindError):
        return exc.transient
    if isinstance(exc, K2hr3HTTPError):
        return exc.status >= 500 or exc.status == 401
    return isinstance(exc, K2hr3ConnectionError)
