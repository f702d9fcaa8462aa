"""CONTRACT: every RPC K2hdkcGuestAgentAPI sends exists on the guest
Manager with the same keyword arguments (doc/guest-rpc.md).

Fails (does not skip) while trove_k2hdkc.guest.manager is missing.
"""

from __future__ import annotations

import inspect
from unittest import mock

import pytest

from trove_k2hdkc.cluster.guestagent import K2hdkcGuestAgentAPI

STUBS = sorted(name for name, fn in vars(K2hdkcGuestAgentAPI).items()
               if inspect.isfunction(fn) and not name.startswith('_'))


def sent(name):
    """(method, kwargs) that the stub ``name`` puts on the wire."""
    api = K2hdkcGuestAgentAPI.__new__(K2hdkcGuestAgentAPI)
    api.status_timeout = api.command_timeout = api.config_timeout = 1
    api.node_timeout = api.rejoin_timeout = 1
    api._call = mock.Mock()
    params = list(inspect.signature(getattr(api, name)).parameters)
    getattr(api, name)(**{p: {} if p == 'upgrade_info' else 'v'
                          for p in params})
    (method, _timeout), kwargs = api._call.call_args
    assert kwargs.pop('version') == K2hdkcGuestAgentAPI.API_BASE_VERSION
    return method, set(kwargs)


def test_stubs_cover_the_contract():
    assert set(STUBS) >= {
        'configure_node', 'start_node', 'refresh_config', 'service_in',
        'service_out', 'restart_k2hdkc', 'merge', 'complete_merge',
        'abort_merge', 'suspend_merge', 'resume_merge', 'node_status',
        'purge_prepare', 'purge_finish', 'restart_node', 'stop_node',
        'cluster_complete', 'restart',
        'upgrade'}


@pytest.mark.parametrize('name', ['restart', 'upgrade'])
def test_rolling_stubs_wait_with_the_slow_timeout(name):
    """A rolling restart/upgrade takes the next member down only after
    this RPC returned, so it is a call (Trove's ``upgrade`` is a cast)
    with room for a whole node restart and rejoin."""
    api = K2hdkcGuestAgentAPI.__new__(K2hdkcGuestAgentAPI)
    api.status_timeout, api.command_timeout = 1, 2
    api.config_timeout, api.node_timeout = 2, 2
    api.rejoin_timeout = 3
    api._call, api._cast = mock.Mock(), mock.Mock()
    params = inspect.signature(getattr(api, name)).parameters
    getattr(api, name)(**{p: {} for p in params})
    api._cast.assert_not_called()
    assert api._call.call_args.args == (name, 3)


def test_rolling_stubs_keep_trove_signatures():
    from trove.guestagent.api import API
    for name in ('restart', 'upgrade'):
        ours = inspect.signature(getattr(K2hdkcGuestAgentAPI, name))
        base = inspect.signature(getattr(API, name))
        assert list(ours.parameters) == list(base.parameters)


@pytest.mark.parametrize('name', STUBS)
def test_stub_sends_its_own_name(name):
    method, _ = sent(name)
    assert method == name


@pytest.mark.parametrize('name', STUBS)
def test_manager_has_method_with_same_kwargs(name):
    from trove_k2hdkc.guest.manager import Manager
    method, kwargs = sent(name)
    target = getattr(Manager, method, None)
    assert callable(target), 'Manager lacks %s' % method
    params = inspect.signature(target).parameters
    names = [p for p in params if p not in ('self', 'context')]
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    required = {p for p, v in params.items()
                if p not in ('self', 'context')
                and v.default is v.empty
                and v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL)}
    assert list(params)[:2] == ['self', 'context']
    assert required <= kwargs, 'Manager.%s needs %s' % (method, required)
    assert var_kw or kwargs <= set(names), (
        'Manager.%s does not take %s' % (method, kwargs - set(names)))
