"""``python -m tests.rig [demo|up|down|status|bench|floor|matrix] ...``.

The deps live in a tox env, so users run this as
``python3 -m tox -e demo -- <action>``
(``demo`` when no action is given); what it prints for the next step is
the command that works from where it was started (``rig_command``).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shlex
import sys

from tests.rig import bench
from tests.rig import binaries
from tests.rig import config
from tests.rig import demo
from tests.rig import faultmatrix
from tests.rig import floor
from tests.rig import floor_ns
from tests.rig import launcher


def rig_command(action: str) -> str:
    """How the user runs ``action`` next: through tox when tox started
    this (its env holds the deps), else with this interpreter; from the
    checkout either way."""
    env = os.environ.get('TOX_ENV_NAME')
    run = ('python3 -m tox -e %s --' % env if env
           else '%s -m tests.rig' % shlex.quote(sys.executable))
    return 'cd %s && %s %s' % (shlex.quote(str(config.REPO_ROOT)), run,
                               action)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m tests.rig')
    parser.add_argument('action', nargs='?', default='demo',
                        choices=['demo', 'up', 'down', 'status', 'bench',
                                 'floor', 'matrix'])
    parser.add_argument('--state-dir', type=pathlib.Path,
                        default=config.RigSettings.state_dir)
    parser.add_argument('--name', default=config.RigSettings.name)
    parser.add_argument('--port', type=int,
                        default=config.RigSettings.api_port)
    parser.add_argument('--subnet', default=config.RigSettings.subnet)
    parser.add_argument('--k2hr3-api-url')
    parser.add_argument('--keep-logs', action='store_true')
    parser.add_argument('--auth', choices=config.AUTH_MODES,
                        default=config.default_auth(),
                        help='trove-api auth: a real Keystone, or the '
                             'static rig token (default from $%s)'
                             % config.ENV_AUTH)
    parser.add_argument('--keystone-port', type=int,
                        default=config.RigSettings.keystone_port)
    parser.add_argument('--sizes', default='1,3',
                        help='bench: cluster sizes to create, e.g. 1,3,6,12;'
                             ' the last one is then grown by one')
    parser.add_argument('--grow-keys', type=int, default=0,
                        help='bench: instead of --sizes, grow 3 -> 4 '
                             'holding this many keys, step by step, next '
                             'to the hand-driven floor')
    parser.add_argument('--keys', type=int, default=10000,
                        help='floor: keys of the hand-driven 3 -> 4 grow '
                             '(needs no rig)')
    parser.add_argument('--cells', default='all',
                        help='matrix: step:fault cells, comma separated, '
                             'e.g. grow:merge:taskmanager,shrink:purge:vm; '
                             'grow, shrink:merge or all expand')
    parser.add_argument('--matrix-keys', type=int, default=300,
                        help='matrix: keys each cell writes and reads back')
    parser.add_argument('--keep', action='store_true',
                        help='demo: leave the rig and the cluster running '
                             '(stop them with "down")')
    args = parser.parse_args(argv)
    state_dir = args.state_dir.resolve()
    settings = config.RigSettings(
        state_dir=state_dir, name=args.name, api_port=args.port,
        subnet=args.subnet, k2hr3_api_url=args.k2hr3_api_url,
        auth=args.auth, keystone_port=args.keystone_port)
    if args.action == 'up':
        info = launcher.up(settings)
        print('rig up: %s (state %s)' % (info['api_url'], state_dir))
        print('CLI: ' + demo.cli_prefix(info))
        print('stop it with: %s' % rig_command('down'))
    elif args.action == 'demo':
        # The README's main job: up, a 3-node cluster, and (unless --keep)
        # everything stopped again.
        launcher.up(settings)
        try:
            return demo.run(state_dir)
        finally:
            if args.keep:
                print('rig left running; stop it with: %s'
                      % rig_command('down'))
            else:
                launcher.down(state_dir, keep_logs=args.keep_logs,
                              name=args.name)
    elif args.action == 'bench':
        # Runs against a rig that is up (``up`` first; ``down`` after).
        if args.grow_keys:
            return bench.run_grow(state_dir, args.grow_keys)
        sizes = [int(n) for n in args.sizes.split(',') if n.strip()]
        return bench.run(state_dir, sizes)
    elif args.action == 'matrix':
        # Runs against a rig that is up, like bench.
        return faultmatrix.run(state_dir, args.cells, args.matrix_keys)
    elif args.action == 'floor':
        path = binaries.search_path()
        binaries.show(path, 'floor')
        floor.show(floor_ns.measure(args.keys, path))
    elif args.action == 'down':
        launcher.down(state_dir, keep_logs=args.keep_logs, name=args.name)
        print('rig down')
    else:
        print(json.dumps(launcher.status(state_dir), indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
