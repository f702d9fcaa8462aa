from __future__ import annotations

import pytest

from trove_k2hdkc.guest.errors import ReplicationNotSupported
from trove_k2hdkc.guest.replication import K2hdkcReplication


def test_replicas_refused_with_clear_message():
    repl = K2hdkcReplication()
    assert repl.backup_required_for_replication() is False
    with pytest.raises(ReplicationNotSupported, match='REPLICA'):
        repl.enable_as_slave(None, {}, {})
