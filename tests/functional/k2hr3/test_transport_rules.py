"""Retries, no-retry on 4xx and TLS verification against the stand-in."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest

from tests.functional.k2hr3.helpers import KEYSTONE_TOKEN
from tests.functional.k2hr3.helpers import TENANT
from tests.functional.k2hr3.helpers import login
from tests.functional.k2hr3.helpers import make_client
from tests.functional.k2hr3.helpers import requests_to
from tests.standins.k2hr3 import K2hr3StandIn
from trove_k2hdkc.k2hr3 import K2hr3ConnectionError
from trove_k2hdkc.k2hr3 import K2hr3HTTPError


@pytest.fixture
def api(k2hr3_standin):
    client = make_client(k2hr3_standin, retries=3)
    token = login(k2hr3_standin, client)
    client.put_resource(token, 'r1', data='d', keys={})
    yield client, token
    client.delete_resource(token, 'r1')
    client.close()


def _gets(standin):
    return requests_to(standin, 'GET', '/v1/resource/r1')


def test_5xx_is_retried(k2hr3_standin, api):
    client, token = api
    k2hr3_standin.fail_next(2, status=503)
    assert client.get_resource(token, 'r1').string == 'd'
    assert len(_gets(k2hr3_standin)) == 3


def test_5xx_retries_are_bounded(k2hr3_standin, api):
    client, token = api
    k2hr3_standin.fail_next(4, status=500)
    with pytest.raises(K2hr3HTTPError) as info:
        client.get_resource(token, 'r1')
    assert info.value.status == 500
    assert len(_gets(k2hr3_standin)) == 4  # 1 + 3 retries


def test_dropped_connection_is_retried(k2hr3_standin, api):
    client, token = api
    before = len(k2hr3_standin.requests)
    k2hr3_standin.drop_next(2)
    assert client.get_resource(token, 'r1').string == 'd'
    assert len(k2hr3_standin.requests) - before == 3


def test_4xx_is_not_retried(k2hr3_standin, api):
    client, token = api
    k2hr3_standin.fail_next(1, status=409)
    with pytest.raises(K2hr3HTTPError) as info:
        client.get_resource(token, 'r1')
    assert info.value.status == 409
    assert len(_gets(k2hr3_standin)) == 1


def test_role_token_issue_not_resent_after_5xx(k2hr3_standin, api):
    client, token = api
    client.put_role(token, 'r1')
    k2hr3_standin.fail_next(1, status=502)
    with pytest.raises(K2hr3HTTPError):
        client.issue_role_token(token, 'r1', expire=0)
    assert len(requests_to(k2hr3_standin, 'GET', '/v1/role/token/r1')) == 1
    client.delete_role(token, 'r1')


@pytest.mark.parametrize('fault', ['503', 'dropped'])
def test_login_is_retried_and_its_tokens_never_logged(k2hr3_standin,
                                                      caplog, fault):
    """Both logins (Keystone -> unscoped, unscoped -> scoped) ride out a
    transient failure like any other call; a second user token minted
    by a re-sent login is harmless."""
    def fail_once():
        if fault == '503':
            k2hr3_standin.fail_next(1, status=503)
        else:
            k2hr3_standin.drop_next(1)
    caplog.set_level(logging.DEBUG)
    k2hr3_standin.add_keystone_token(KEYSTONE_TOKEN, user='demo',
                                     tenants=[TENANT])
    client = make_client(k2hr3_standin, retries=3)
    fail_once()
    unscoped = client.unscoped_token_from_keystone(KEYSTONE_TOKEN)
    fail_once()
    scoped = client.scoped_token_from_unscoped(unscoped, TENANT)
    assert client.token_info(scoped)['scoped'] is True
    client.close()
    assert len(requests_to(k2hr3_standin, 'POST', '/v1/user/tokens')) == 4
    assert caplog.text.count('retry 1/3') == 2
    for secret in (KEYSTONE_TOKEN, unscoped, scoped.token):
        assert secret not in caplog.text


def test_refused_connection_maps_to_connection_error():
    standin = K2hr3StandIn(host='127.0.0.1', port=0)
    standin.start()
    url = standin.url
    standin.stop()
    client = make_client(standin, base_url=url, retries=1)
    with pytest.raises(K2hr3ConnectionError):
        client.token_info('x' * 64)
    client.close()


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'k2hr3-test')])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                key.public_key()), critical=False)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file = tmp_path / 'cert.pem'
    key_file = tmp_path / 'key.pem'
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_file, key_file


def test_tls_verified_by_default(tmp_path):
    cert_file, key_file = _self_signed(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert_file), str(key_file))
    standin = K2hr3StandIn(host='127.0.0.1', port=0, ssl_context=ctx)
    standin.start()
    try:
        assert standin.url.startswith('https://')
        client = make_client(standin, retries=2)
        with pytest.raises(K2hr3ConnectionError) as info:
            login(standin, client)
        assert 'TLS' in str(info.value)
        client.close()
        assert standin.requests == []  # refused before any HTTP request
        client = make_client(standin, verify=str(cert_file))
        token = login(standin, client)
        assert client.token_info(token)['scoped'] is True
        client.close()
    finally:
        standin.stop()
