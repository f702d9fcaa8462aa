"""What a guest does with the access the control plane hands it, on the
stand-in and on a real K2HR3 when ``K2HDKC_TEST_K2HR3_URL`` names one
(backends): a single node registers itself with its role token (K2HR3
takes the request's source address, here 127.0.0.1), reads its INI
through the same token, and the control plane can remove that member
again (second capture F1: a member K2HR3 cannot match is never removed).
"""

from __future__ import annotations

import re
import uuid

from tests.functional.k2hr3 import ini_check
from trove_k2hdkc.cluster.procedures import Member
from trove_k2hdkc.cluster.registry import K2hr3Registry
from trove_k2hdkc.guest.node_config import K2hr3Fetcher
from trove_k2hdkc.guest.node_config import K2hr3Registrar
from trove_k2hdkc.k2hr3 import ClusterK2hr3
from trove_k2hdkc.k2hr3 import ClusterSettings


def _servers(text: str) -> list[tuple[str, str]]:
    return [(s['NAME'], s['CUK']) for s in ini_check.sections(
        ini_check.parse(text), 'SVRNODE')]


def test_self_registered_node_reads_its_ini_and_can_be_removed(backend):
    objects = ClusterK2hr3(backend.client, backend.token, str(uuid.uuid4()),
                           ClusterSettings())
    registry = K2hr3Registry(objects=objects, api_url=backend.url)
    instance = str(uuid.uuid4())
    try:
        access = registry.provision()
        K2hr3Registrar(allow_http=True)(access, instance)
        K2hr3Registrar(allow_http=True)(access, instance)   # upsert
        fetch = K2hr3Fetcher(allow_http=True)
        text = fetch(access)
        assert _servers(text) == [('127.0.0.1', instance)]
        assert re.search(r'^GROUP\s*=\s*%s\s*$' % objects.names.name, text,
                         re.MULTILINE)
        registry.remove_servers([Member(id=instance, ip='127.0.0.1')])
        assert _servers(fetch(access)) == []
        registry.teardown()
        assert backend.has_none(objects.names.name)
    finally:
        objects.teardown()
