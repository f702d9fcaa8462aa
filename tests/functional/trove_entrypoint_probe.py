"""Run a real Trove console script up to the point where it would serve.

Usage: python -m tests.functional.trove_entrypoint_probe <console-script>
       <option> [trove arguments ...]

The console script (``trove-taskmanager``, ``trove-wsgi``, ...) is resolved
through its installed entry point and run unmodified: it parses its options
from the given ``--config-file`` exactly as in production. Only the final
"start serving" call is replaced by a probe that prints, as one JSON line,
the value of ``CONF.k2hdkc.<option>`` (or the error reading it) and exits.
That proves whether the ``[k2hdkc]`` group reached that program.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import sys
from typing import Any
from typing import NoReturn
from unittest import mock

PROBE_EXIT = 42


def _report(option: str) -> NoReturn:
    from oslo_config import cfg
    from trove.common import cfg as trove_cfg

    conf = trove_cfg.CONF
    try:
        value: Any = conf.get('k2hdkc').get(option)
        result = {'value': value}
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError) as exc:
        result = {'error': type(exc).__name__, 'message': str(exc)}
    result['config_source'] = list(conf.config_source)
    print('PROBE ' + json.dumps(result, default=str), flush=True)
    sys.exit(PROBE_EXIT)


def _stop_points(option: str) -> list[Any]:
    """Patches for every call through which a Trove program starts serving."""
    def probe(*args: Any, **kwargs: Any) -> NoReturn:
        _report(option)

    return [
        # trove-taskmanager, trove-conductor, trove-guestagent
        mock.patch('oslo_service.service.launch', probe),
        # trove-api (plain command)
        mock.patch('trove.common.wsgi.launch', probe),
        # trove-wsgi / uwsgi: the module builds the app at import
        mock.patch('trove.common.pastedeploy.paste_deploy_app', probe),
        # trove-guestagent builds its RPC server (importing the datastore
        # manager) just before launch; the probe stops there instead.
        mock.patch('trove.common.rpc.service.RpcService', probe),
    ]


def _manage_hook(option: str) -> Any:
    """trove-manage has no serve step: report once its command finished."""
    from trove.cmd import manage

    real_main = manage.main

    def main() -> NoReturn:
        try:
            real_main()
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise
        _report(option)

    return main


def run(script: str, option: str, argv: list[str]) -> None:
    (entry,) = [ep for group in ('console_scripts', 'wsgi_scripts')
                for ep in importlib.metadata.entry_points(group=group,
                                                          name=script)]
    sys.argv = [script] + argv
    for patch in _stop_points(option):
        patch.start()
    if script == 'trove-manage':
        func = _manage_hook(option)
    else:
        # trove-wsgi's module builds the WSGI app (parsing options) at
        # import time, as uwsgi does.
        module = importlib.import_module(entry.module)
        func = getattr(module, entry.attr)
    func()
    # A program that returns instead of serving is a failure of the probe.
    print('PROBE {"error": "returned without serving"}', flush=True)
    sys.exit(1)


if __name__ == '__main__':
    run(sys.argv[1], sys.argv[2], sys.argv[3:])
