"""The real Swift these tests store backups in (tests/swiftlocal)."""

from __future__ import annotations

import pytest

from tests import swiftlocal


@pytest.fixture(scope='module')
def swift(tmp_path_factory):
    """Proxy, account, container and object servers on loopback.

    A machine without Swift's packages fails here, saying what is missing:
    test-requirements.txt installs them (no skip hides a missing install).
    """
    lacks = swiftlocal.missing()
    if lacks:
        pytest.fail('Swift cannot run: ' + '; '.join(lacks))
    server = swiftlocal.LocalSwift(tmp_path_factory.mktemp('swift'))
    server.start()
    try:
        yield server
    finally:
        server.stop()
