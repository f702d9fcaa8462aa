from tests.rig.fixture import keystone_rig  # noqa: F401
from tests.rig.fixture import trove_rig  # noqa: F401
