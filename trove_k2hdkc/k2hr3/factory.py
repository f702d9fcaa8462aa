"""Build a client from settings or from the ``[k2hdkc]`` options (the only
place besides ``settings`` that touches configuration)."""

from __future__ import annotations

from typing import Any

from trove_k2hdkc.k2hr3.client import K2hr3Client
from trove_k2hdkc.k2hr3.settings import client_settings_from_conf
from trove_k2hdkc.k2hr3.transport import ClientSettings
from trove_k2hdkc.k2hr3.transport import Transport


def build_client(settings: ClientSettings) -> K2hr3Client:
    return K2hr3Client(Transport(settings))


def client_from_conf(conf: Any) -> K2hr3Client:
    """``conf`` is a ConfigOpts with the ``[k2hdkc]`` group registered."""
    return build_client(client_settings_from_conf(conf))
