"""Fixtures of these tests: the K2HR3 stand-in, a logged-in client on it
(``api``) and ``backend`` (stand-in, or a real K2HR3 from the env)."""

import pytest

from tests.functional.k2hr3.backends import backend  # noqa: F401
from tests.functional.k2hr3.helpers import login
from tests.functional.k2hr3.helpers import make_client
from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401


@pytest.fixture
def api(k2hr3_standin):  # noqa: F811
    client = make_client(k2hr3_standin)
    yield client, login(k2hr3_standin, client)
    client.close()
