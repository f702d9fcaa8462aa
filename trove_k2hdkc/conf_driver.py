"""Register ``[k2hdkc]`` in every Trove process through oslo.config.

Trove has no plug point for a datastore's option group, but oslo.config
loads drivers from the ``oslo.config.driver`` entry-point namespace while it
parses the configuration of *any* program, as soon as ``[DEFAULT]
config_source`` names a group. This driver uses that moment to register the
group on the very ``ConfigOpts`` being parsed and then contributes no values
of its own. Two lines in trove.conf (and in the trove-guestagent.conf that
Trove injects into guests) therefore make trove-api, trove-taskmanager,
trove-conductor, trove-guestagent and trove-manage all see ``[k2hdkc]``::

    [DEFAULT]
    config_source = k2hdkc_options

    [k2hdkc_options]
    driver = k2hdkc_options
"""

from __future__ import annotations

from typing import Any

from oslo_config import sources

from trove_k2hdkc import conf


class K2hdkcOptionsDriver(sources.ConfigurationSourceDriver):
    """A config-source driver that only registers the ``[k2hdkc]`` group."""

    # oslo.config's annotation says a source is returned, but its caller
    # (ConfigOpts._load_alternative_sources) skips None: no source at all
    # costs nothing on each option lookup.
    def open_source_from_opt_group(  # type: ignore[override]
            self, conf_opts: Any, group_name: str) -> None:
        conf.register(conf_opts)
        # No extra values: the options are read from the ordinary files.
        return None

    def list_options_for_discovery(self) -> list[Any]:
        return []
