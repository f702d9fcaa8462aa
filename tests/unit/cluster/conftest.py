"""Trove's own database layer on a throw-away sqlite file.

Tests that need real rows (the atomic task claim is a SQL statement,
not something a mock can show) ask for ``trove_db``. The schema comes
from Trove's own migrations, so the columns are the ones production has.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from trove.common import cfg
from trove.db import get_db_api
from trove.db.sqlalchemy import session

CONF = cfg.CONF


@pytest.fixture(scope='session')
def _trove_schema(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp('trove-db') / 'trove.sqlite'
    CONF.set_override('connection', 'sqlite:///%s' % path, 'database')
    get_db_api().db_sync(CONF)
    session.configure_db()


@pytest.fixture
def trove_db(_trove_schema: None) -> Iterator[None]:
    yield
    session.clean_db()


@pytest.fixture(autouse=True)
def _no_startup_recovery() -> Iterator[None]:
    """The first cluster cast of a process starts the recovery of
    interrupted tasks in a greenthread (``orphans.start_once``); unit
    tests drive ``orphans.recover`` themselves instead."""
    from trove_k2hdkc.cluster import orphans
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(orphans, '_done', True)
        yield
