"""RabbitMQ and MariaDB for the rig: start if down, own vhost/user/db.

The rig gets its own RabbitMQ vhost and user (``guest`` only logs in from
loopback, and the rig must not disturb anybody else's queues) and its own
database; ``teardown`` removes exactly those. MariaDB absent -> sqlite file
in the state dir.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

from tests.rig import procs

RABBIT_PORT = 5672
MARIADB_PORT = 3306
MARIADBD = '/usr/sbin/mariadbd'


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), check=check, capture_output=True,
                          text=True, timeout=120)


def ensure_rabbitmq() -> None:
    if not procs.tcp_open('127.0.0.1', RABBIT_PORT):
        _run('rabbitmq-server', '-detached')
    procs.wait_until(lambda: procs.tcp_open('127.0.0.1', RABBIT_PORT), 90,
                     'RabbitMQ on 127.0.0.1:%d' % RABBIT_PORT)
    _run('rabbitmqctl', 'await_startup')


def create_rabbit_account(vhost: str, user: str, password: str) -> None:
    users = _run('rabbitmqctl', '-q', 'list_users').stdout.split()
    if user in users:
        _run('rabbitmqctl', 'change_password', user, password)
    else:
        _run('rabbitmqctl', 'add_user', user, password)
    vhosts = _run('rabbitmqctl', '-q', 'list_vhosts').stdout.split()
    if vhost not in vhosts:
        _run('rabbitmqctl', 'add_vhost', vhost)
    _run('rabbitmqctl', 'set_permissions', '-p', vhost, user,
         '.*', '.*', '.*')


def delete_rabbit_account(vhost: str, user: str) -> None:
    if not procs.tcp_open('127.0.0.1', RABBIT_PORT):
        return
    _run('rabbitmqctl', 'delete_vhost', vhost, check=False)
    _run('rabbitmqctl', 'delete_user', user, check=False)


def rabbit_queues(vhost: str) -> list[str]:
    out = _run('rabbitmqctl', '-q', 'list_queues', '-p', vhost, 'name',
               check=False).stdout
    return [line.split()[0] for line in out.splitlines()
            if line.strip() and line.split()[0] != 'name']


def queue_consumers(vhost: str, queue: str) -> int:
    """How many consumers RabbitMQ counts on ``queue`` (0 if absent)."""
    out = _run('rabbitmqctl', '-q', 'list_queues', '-p', vhost, 'name',
               'consumers', check=False).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == queue and fields[1].isdigit():
            return int(fields[1])
    return 0


def mariadb_available() -> bool:
    return pathlib.Path(MARIADBD).exists() and bool(shutil.which('mariadb'))


def ensure_mariadb() -> None:
    if not procs.tcp_open('127.0.0.1', MARIADB_PORT):
        _run('start-stop-daemon', '--start', '--oknodo', '--background',
             '--exec', MARIADBD)
    procs.wait_until(lambda: procs.tcp_open('127.0.0.1', MARIADB_PORT), 60,
                     'MariaDB on 127.0.0.1:%d' % MARIADB_PORT)


def _sql(statement: str) -> None:
    _run('mariadb', '-h', '127.0.0.1', '-P', str(MARIADB_PORT), '-u',
         'root', '-e', statement)


def create_database(name: str) -> None:
    _sql('DROP DATABASE IF EXISTS `%s`; CREATE DATABASE `%s` '
         'CHARACTER SET utf8mb4' % (name, name))


def drop_database(name: str) -> None:
    if procs.tcp_open('127.0.0.1', MARIADB_PORT):
        _sql('DROP DATABASE IF EXISTS `%s`' % name)
