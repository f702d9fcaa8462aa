"""The K2HR3 stand-in fixture for these tests."""

from tests.standins.k2hr3.fixture import k2hr3_standin  # noqa: F401
