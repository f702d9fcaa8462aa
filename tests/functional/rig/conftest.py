from tests.rig.fixture import trove_rig  # noqa: F401
