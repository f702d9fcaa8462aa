"""The ``x-auth-token`` header: ``U=`` (or bare) user, ``R=`` role."""

from __future__ import annotations

from tests.standins.k2hr3.http_types import ApiError
from tests.standins.k2hr3.http_types import Request
from tests.standins.k2hr3.store import State
from tests.standins.k2hr3.tokens import RoleToken
from tests.standins.k2hr3.tokens import UserToken

NO_HEADER = 'There is no x-auth-token header'


def token_header(req: Request) -> tuple[str | None, str]:
    """('U'|'R'|None, token) from the header."""
    value = req.headers.get('x-auth-token')
    if value is None or value.strip() == '':
        return None, ''
    value = value.strip()
    if value.startswith('R='):
        return 'R', value[2:]
    if value.startswith('U='):
        return 'U', value[2:]
    return 'U', value


def not_existed(token: str) -> ApiError:
    return ApiError(401, 'token(%s) is not existed, because it is expired '
                         'or not set yet.' % token)


def user(state: State, token: str) -> UserToken:
    entry = None if state.store_down else state.user_token(token)
    if entry is None:
        raise not_existed(token)
    return entry


def scoped_user(state: State, token: str) -> UserToken:
    entry = user(state, token)
    if entry.tenant is None:
        raise ApiError(401, 'token(%s) is not scoped.' % token)
    return entry


def role(state: State, token: str) -> RoleToken:
    entry = None if state.store_down else state.role_token(token)
    if entry is None:
        raise not_existed(token)
    return entry


def require_scoped_user(state: State, req: Request) -> UserToken:
    """For endpoints that only take a user token."""
    kind, token = token_header(req)
    if kind is None:
        raise ApiError(400, NO_HEADER)
    if kind != 'U':
        raise not_existed(token)
    return scoped_user(state, token)
