"""Version roots and ``/v1/list``."""

from __future__ import annotations

from tests.standins.k2hr3 import auth
from tests.standins.k2hr3 import yrn
from tests.standins.k2hr3.http_types import ApiError
from tests.standins.k2hr3.http_types import Reply
from tests.standins.k2hr3.http_types import Request
from tests.standins.k2hr3.http_types import no_content
from tests.standins.k2hr3.http_types import ok
from tests.standins.k2hr3.store import State

# The (stale) map the real 2.0.3 answers on GET /v1, verbatim.
V1_MAP = {
    'version': {'/': ['GET'], '/v1': ['GET']},
    'user token': {'/v1/user/tokens': ['HEAD', 'GET', 'POST']},
    'host': {'/v1/host': ['GET', 'PUT', 'POST', 'DELETE'],
             '/v1/host/{port}': ['PUT', 'POST', 'DELETE'],
             '/v1/host/FQDN': ['DELETE'],
             '/v1/host/FQDN:{port}': ['DELETE'],
             '/v1/host/IP': ['DELETE'],
             '/v1/host/IP:{port}': ['DELETE']},
    'service': {'/v1/service': ['PUT', 'POST'],
                '/v1/service/{service}': ['GET', 'HEAD', 'PUT', 'POST',
                                          'DELETE']},
    'role': {'/v1/role': ['PUT', 'POST'],
             '/v1/role/{role}': ['HEAD', 'GET', 'PUT', 'POST', 'DELETE'],
             '/v1/role/token/{role}': ['GET']},
    'resource': {'/v1/resource': ['PUT', 'POST'],
                 '/v1/resource/{resource}': ['HEAD', 'GET', 'DELETE']},
    'policy': {'/v1/policy': ['PUT', 'POST'],
               '/v1/policy/{policy}': ['HEAD', 'GET', 'DELETE']},
    'list': {'/v1/list': ['HEAD', 'GET'],
             '/v1/list/{role, resource, policy}/{path}': ['HEAD', 'GET']},
    'acr': {'/v1/acr/{service}': ['GET', 'PUT', 'POST', 'DELETE']},
}


def version_root(state: State, req: Request) -> Reply:
    return Reply(200, {'version': ['v1']})


def version_v1(state: State, req: Request) -> Reply:
    return Reply(200, V1_MAP)


def listing(state: State, req: Request) -> Reply:
    """GET/HEAD /v1/list/{resource|role|policy}[/<root>]?expand=."""
    user = auth.require_scoped_user(state, req)
    rest = req.path[len('/v1/list/'):]
    kind, _, root = rest.partition('/')
    if kind not in ('resource', 'role', 'policy'):
        raise ApiError(404, 'Internal server error')
    data = state.tenant(user.tenant)
    expand = req.arg('expand') == 'true'
    if kind == 'policy':
        children = [{'name': name, 'children': []}
                    for name in sorted(data.policies)]
    else:
        tree = data.resources if kind == 'resource' else data.roles
        children = tree.listing(yrn.normalise_path(root), expand)
    if req.method == 'HEAD':
        return no_content()
    return ok(children=children)
