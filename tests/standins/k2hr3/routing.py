"""Method + path dispatch; unknown routes are the real 404
``Internal server error``."""

from __future__ import annotations

from collections.abc import Callable

from tests.standins.k2hr3 import api_misc
from tests.standins.k2hr3 import api_policy
from tests.standins.k2hr3 import api_resource
from tests.standins.k2hr3 import api_role
from tests.standins.k2hr3 import api_role_token
from tests.standins.k2hr3 import api_user
from tests.standins.k2hr3.http_types import ApiError
from tests.standins.k2hr3.http_types import Reply
from tests.standins.k2hr3.http_types import Request
from tests.standins.k2hr3.store import State

Handler = Callable[[State, Request], Reply]

# (path, is_prefix, {method: handler}); first match wins.
ROUTES: list[tuple[str, bool, dict[str, Handler]]] = [
    ('/', False, {'GET': api_misc.version_root}),
    ('/v1', False, {'GET': api_misc.version_v1}),
    ('/v1/user/tokens', False, {'POST': api_user.create,
                                'PUT': api_user.create,
                                'GET': api_user.info,
                                'HEAD': api_user.check}),
    ('/v1/resource', False, {'POST': api_resource.create,
                             'PUT': api_resource.create}),
    ('/v1/resource/', True, {'GET': api_resource.read,
                             'HEAD': api_resource.read,
                             'DELETE': api_resource.delete}),
    ('/v1/policy', False, {'POST': api_policy.create,
                           'PUT': api_policy.create}),
    ('/v1/policy/', True, {'GET': api_policy.get,
                           'HEAD': api_policy.head,
                           'DELETE': api_policy.delete}),
    ('/v1/role', False, {'POST': api_role.create, 'PUT': api_role.create}),
    ('/v1/role/token/list/', True, {'GET': api_role_token.listing}),
    ('/v1/role/token/', True, {'GET': api_role_token.issue,
                               'DELETE': api_role_token.delete}),
    ('/v1/role/', True, {'GET': api_role.get, 'HEAD': api_role.head,
                         'PUT': api_role.add_hosts,
                         'POST': api_role.add_hosts,
                         'DELETE': api_role.delete}),
    ('/v1/list/', True, {'GET': api_misc.listing,
                         'HEAD': api_misc.listing}),
]


def find(method: str, path: str) -> Handler | None:
    if path != '/':
        path = path.rstrip('/')
    for route, is_prefix, handlers in ROUTES:
        hit = path.startswith(route) and len(path) > len(route) \
            if is_prefix else path == route
        if hit:
            return handlers.get(method)
    return None


def dispatch(state: State, req: Request) -> Reply:
    """Run the handler; ApiError propagates to the server's writer."""
    handler = find(req.method, req.path)
    if handler is None:
        raise ApiError(404, 'Internal server error')
    if req.path != '/':
        req.path = req.path.rstrip('/')
    with state.lock:
        return handler(state, req)
