"""HTTP transport for the K2HR3 API: one ``requests.Session``, timeouts,
bounded retries, error mapping, secret scrubbing.

Retry rule: a request is re-sent after a connection error or a 5xx only when
re-sending cannot do harm. ``Retry.IDEMPOTENT`` calls (reads, deletes,
upserts, and logins, whose extra short-lived user token is harmless) are
retried on both; ``Retry.IF_NOT_SENT`` calls (those that mint something
lasting, e.g. a 10-year role token) are retried only when the connection
was never established, because after a 5xx or a dropped reply the server
may already have acted. 4xx is never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
import dataclasses
import enum
import json
import time
from typing import Any
from urllib.parse import quote

from oslo_log import log as logging
import requests
from urllib3 import exceptions as u3exc

from trove_k2hdkc.k2hr3 import errors
from trove_k2hdkc.k2hr3 import redact

LOG = logging.getLogger(__name__)

# Characters K2HR3 paths (names and YRNs) may carry unescaped.
_PATH_SAFE = '/:'
#: The option that lets a plain-http K2HR3 URL through (named in errors).
ALLOW_HTTP_OPTION = '[k2hdkc] k2hr3_allow_insecure_http'


def check_url(url: str, allow_http: bool) -> None:
    """Refuse a URL that is not http(s), and http unless ``allow_http``:
    the requester's Keystone token and the nodes' role tokens travel in
    every K2HR3 request, readable by anyone on the path over plain http
    (doc/k2hr3-layout.md §5)."""
    if not isinstance(url, str) or not url.startswith(('http://',
                                                       'https://')):
        raise errors.K2hr3ValueError(
            'K2HR3 API URL must start with http:// or https://')
    if url.startswith('http://') and not allow_http:
        raise errors.K2hr3ValueError(
            'refusing the plain-http K2HR3 API URL %s: tokens would travel '
            'unencrypted; use https, or set %s = true where that is '
            'acceptable (test beds)' % (url, ALLOW_HTTP_OPTION))


class Retry(enum.Enum):
    IDEMPOTENT = 'idempotent'
    IF_NOT_SENT = 'if-not-sent'


@dataclasses.dataclass(frozen=True)
class ClientSettings:
    """Connection settings; ``verify`` is True, False or a CA bundle path;
    a plain-http ``base_url`` needs ``allow_http`` (``check_url``)."""

    base_url: str
    verify: bool | str = True
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    allow_http: bool = False

    def __post_init__(self) -> None:
        check_url(self.base_url, self.allow_http)
        if self.timeout <= 0 or self.retries < 0 or self.backoff < 0:
            raise errors.K2hr3ValueError(
                'K2HR3 timeout must be > 0, retries and backoff >= 0')


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # parsed JSON, or None for an empty body


def quote_path(path: str) -> str:
    """URL-escape a K2HR3 path while keeping ``/`` and ``:`` literal."""
    return quote(path, safe=_PATH_SAFE)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request provably never reached the server."""
    stack: list[object] = [exc]
    seen: set[int] = set()
    while stack:
        cur = stack.pop()
        if not isinstance(cur, BaseException) or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, (requests.exceptions.ConnectTimeout,
                            u3exc.NewConnectionError,
                            u3exc.ConnectTimeoutError)):
            return True
        stack.extend((getattr(cur, 'reason', None), cur.__cause__,
                      cur.__context__))
        stack.extend(cur.args)
    return False


class Transport:
    """Sends K2HR3 requests; see the module docstring for the retry rule."""

    def __init__(self, settings: ClientSettings,
                 redactor: redact.Redactor | None = None,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.redactor = redactor or redact.Redactor()
        self._session = session or requests.Session()
        self._sleep = sleep
        self._base = settings.base_url.rstrip('/')
        redact.install_urllib3_filter()
        if settings.verify is False and self._base.startswith('https'):
            LOG.warning('TLS verification of the K2HR3 API is disabled')

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return '<Transport %s>' % self._base

    def request(self, method: str, path: str, *,
                token: str | None = None,
                params: Mapping[str, Any] | None = None,
                body: Any = None,
                retry: Retry = Retry.IDEMPOTENT,
                ok_statuses: frozenset[int] = frozenset()) -> Reply:
        """Send one API call; ``path`` is already quoted (``quote_path``).

        ``ok_statuses`` lists error statuses the caller treats as success
        (e.g. 404 on delete).
        """
        if token:
            self.redactor.add(token.split('=', 1)[-1])
        headers = {'Accept': 'application/json'}
        if token:
            headers['x-auth-token'] = token
        data = None
        if body is not None:
            headers['Content-Type'] = 'application/json'
            data = json.dumps(body)
        url = self._base + path
        safe_path = self.redactor.scrub(path)
        attempt = 0
        while True:
            try:
                resp = self._session.request(
                    method, url, params=params, data=data, headers=headers,
                    timeout=self.settings.timeout, allow_redirects=False,
                    # Per request: requests lets REQUESTS_CA_BUNDLE override
                    # a session-level verify.
                    verify=self.settings.verify)
            except requests.exceptions.SSLError as exc:
                raise errors.K2hr3ConnectionError(
                    'TLS failure talking to K2HR3 (%s %s): %s'
                    % (method, safe_path, self.redactor.scrub(
                        type(exc).__name__))) from None
            except requests.RequestException as exc:
                may_retry = (retry is Retry.IDEMPOTENT or _never_sent(exc))
                if may_retry and attempt < self.settings.retries:
                    attempt = self._backoff(attempt, method, safe_path,
                                            type(exc).__name__)
                    continue
                raise errors.K2hr3ConnectionError(
                    'K2HR3 %s %s: no reply (%s) after %d attempt(s)'
                    % (method, safe_path, type(exc).__name__, attempt + 1)
                ) from None
            reply = self._parse(resp, method, safe_path)
            status = resp.status_code
            LOG.debug('K2HR3 %s %s -> %s', method, safe_path, status)
            if (status >= 500 and retry is Retry.IDEMPOTENT
                    and attempt < self.settings.retries):
                attempt = self._backoff(attempt, method, safe_path,
                                        'HTTP %d' % status)
                continue
            if status in ok_statuses:
                return reply
            failed = status >= 400 or (
                isinstance(reply.body, dict)
                and reply.body.get('result') is False)
            if failed or status >= 300:
                raise errors.K2hr3HTTPError(
                    status, method, safe_path, self._message(reply.body))
            return reply

    def _backoff(self, attempt: int, method: str, path: str,
                 why: str) -> int:
        delay = self.settings.backoff * (2 ** attempt)
        LOG.info('K2HR3 %s %s: %s, retry %d/%d in %.2fs', method, path, why,
                 attempt + 1, self.settings.retries, delay)
        if delay:
            self._sleep(delay)
        return attempt + 1

    def _parse(self, resp: requests.Response, method: str,
               safe_path: str) -> Reply:
        raw = resp.content
        if not raw:
            return Reply(resp.status_code, None)
        try:
            body = json.loads(raw)
        except ValueError:
            if resp.status_code >= 400:
                return Reply(resp.status_code, None)
            raise errors.K2hr3ProtocolError(
                'K2HR3 %s %s: HTTP %d with a non-JSON body'
                % (method, safe_path, resp.status_code)) from None
        return Reply(resp.status_code, body)

    def _message(self, body: Any) -> str | None:
        if isinstance(body, dict) and body.get('message') is not None:
            return self.redactor.scrub(body.get('message'))
        return None
