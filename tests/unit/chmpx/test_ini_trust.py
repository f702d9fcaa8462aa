"""Values the guest acts on are held against what it trusts: its data
directory, the cluster's GROUP, its own ports; plugin keys and SSL paths
are refused, numbers bounded (doc/k2hr3-layout.md §5)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from tests.unit.chmpx.test_ini import NODE1
from tests.unit.chmpx.test_ini import NODE1_CUK
from tests.unit.chmpx.test_ini import _replace
from tests.unit.chmpx.test_ini import _sub
from tests.unit.chmpx.test_ini import base  # noqa: F401
from trove_k2hdkc.chmpx import ini
from trove_k2hdkc.chmpx.errors import InvalidIniError
from trove_k2hdkc.chmpx.errors import UntrustedIniError

DATA_DIR = '/var/lib/antpickax/k2hdkc'
TRUST = ini.TrustedValues(group='mydkc', data_dir=DATA_DIR, port=28020,
                          ctlport=28021)
K2HFILE_LINE = r'^K2HFILE .*$'
#: As the guest runs chmpx: ``-ctlport`` on the command line.
NODE1_CLI = dataclasses.replace(NODE1, cli_ctlport=True)
GLOBAL_SSL = 'SSL                 = no\nK2HFULLMAP          = on'


def _k2hdkc_line(text: str, line: str) -> str:
    return _replace(text, '[K2HDKC]\n', '[K2HDKC]\n%s\n' % line)


def test_reference_ini_is_trusted(base):  # noqa: F811
    config = ini.check_ini(base, NODE1, TRUST)
    assert config.k2hdkc['K2HFILE'].startswith(DATA_DIR + '/')


#: name: (mutation, key named in the problem, value that must not be shown)
UNTRUSTED = {
    'k2hfile_passwd': (lambda t: _sub(t, K2HFILE_LINE,
                                      'K2HFILE = /etc/passwd'),
                       '[K2HDKC] K2HFILE: a path outside the data directory',
                       '/etc/passwd'),
    'k2hfile_dotdot': (lambda t: _sub(
        t, K2HFILE_LINE, 'K2HFILE = %s/../../../../etc/shadow' % DATA_DIR),
        '[K2HDKC] K2HFILE: a path outside', 'shadow'),
    'k2hfile_relative': (lambda t: _sub(t, K2HFILE_LINE,
                                        'K2HFILE = k2hdkc.k2h'),
                         '[K2HDKC] K2HFILE: a path outside', None),
    'k2hfile_is_data_dir': (lambda t: _sub(t, K2HFILE_LINE,
                                           'K2HFILE = %s/' % DATA_DIR),
                            '[K2HDKC] K2HFILE: a path outside', None),
    'passfile': (lambda t: _k2hdkc_line(t, 'PASSFILE = /root/.ssh/id_rsa'),
                 '[K2HDKC] PASSFILE: a path outside', 'id_rsa'),
    'group_other': (lambda t: _sub(t, r'^GROUP .*$', 'GROUP = otherdkc'),
                    "[GLOBAL] GROUP: not this cluster's group mydkc",
                    'otherdkc'),
    'group_dotdot': (lambda t: _sub(t, r'^GROUP .*$',
                                    'GROUP = ../../etc/cron.d/x'),
                     "[GLOBAL] GROUP: not this cluster's group", 'cron'),
    'attrplugin': (lambda t: _k2hdkc_line(t, 'ATTRPLUGIN = /tmp/evil.so'),
                   '[K2HDKC] ATTRPLUGIN: an attribute plugin library',
                   'evil'),
    'dtorctp': (lambda t: _k2hdkc_line(t, 'DTORCTP = /tmp/evil.so'),
                '[K2HDKC] DTORCTP: a transaction plugin library', 'evil'),
    'replclusterini': (lambda t: _k2hdkc_line(
        t, 'REPLCLUSTERINI = /tmp/other.ini'),
        '[K2HDKC] REPLCLUSTERINI: a transaction plugin configuration',
        'other.ini'),
    'svrnodeini': (lambda t: _k2hdkc_line(t, 'SVRNODEINI = /tmp/x.ini'),
                   '[K2HDKC] SVRNODEINI: another chmpx configuration',
                   'x.ini'),
    'capath_ssl_off': (lambda t: _replace(t, GLOBAL_SSL,
                                          'CAPATH = /etc/ssl\n' + GLOBAL_SSL),
                       '[GLOBAL] CAPATH: an SSL path while SSL is off',
                       '/etc/ssl'),
    'node_cert_ssl_on': (lambda t: _replace(
        t, 'SSL                 = no\n\n',
        'SSL = yes\nSERVER_PRIKEY = /etc/shadow\n\n'),
        '[SVRNODE] SERVER_PRIKEY (entry at line 59): an SSL path outside '
        'the allowed SSL directory',
        'shadow'),
    'own_port': (lambda t: _replace(t, NODE1_CUK + '\nPORT                '
                                    '= 28020', NODE1_CUK + '\nPORT = 22'),
                 "[SVRNODE] PORT (entry at line 59): not this node's port "
                 '28020', None),
    'selfctlport': (lambda t: _sub(t, r'^SELFCTLPORT .*$',
                                   'SELFCTLPORT = 28023'),
                    "[GLOBAL] SELFCTLPORT: not this node's control port "
                    '28021', None),
}


@pytest.mark.parametrize('name', sorted(UNTRUSTED))
def test_untrusted_value_is_refused_naming_the_key(base, name):  # noqa: F811
    mutate, message, hidden = UNTRUSTED[name]
    text = mutate(base)
    ini.check_ini(text, NODE1_CLI)  # chmpx would take it; trust stops it
    with pytest.raises(UntrustedIniError) as info:
        ini.check_ini(text, NODE1_CLI, TRUST)
    assert any(message in p for p in info.value.problems), \
        info.value.problems
    if hidden:
        assert hidden not in str(info.value)


def test_symlink_out_of_the_data_dir_is_refused(base, tmp_path):  # noqa: F811
    data = tmp_path / 'data'
    data.mkdir()
    (data / 'k2hdkc.k2h').symlink_to('/etc/passwd')
    text = _sub(base, K2HFILE_LINE, 'K2HFILE = %s/k2hdkc.k2h' % data)
    trust = ini.TrustedValues(group='mydkc', data_dir=str(data))
    with pytest.raises(UntrustedIniError, match='K2HFILE: a path outside'):
        ini.check_ini(text, NODE1, trust)
    (data / 'k2hdkc.k2h').unlink()
    ini.check_ini(text, NODE1, trust)


def test_ssl_path_under_the_allowed_dir_is_accepted(base):  # noqa: F811
    text = _replace(base, GLOBAL_SSL, 'SSL = yes\nCAPATH = '
                    '/etc/k2hdkc-ssl/ca.pem\nK2HFULLMAP          = on')
    with pytest.raises(UntrustedIniError, match='CAPATH: an SSL path '
                                                'outside'):
        ini.check_ini(text, NODE1, TRUST)
    trust = ini.TrustedValues(group='mydkc', data_dir=DATA_DIR,
                              ssl_dir='/etc/k2hdkc-ssl')
    ini.check_ini(text, NODE1, trust)



#: Values that are one thing to this parser and another to chmpx or
#: k2hdkc (doc/k2hr3-layout.md §5): k2hdkc cuts a [K2HDKC] line at any
#: ``#`` and keeps quotes, chmpx cuts at `` #`` and unquotes/unescapes.
#: Each would pass the path check as it stands.
READ_DIFFERENTLY = {
    'hash_cuts_k2hdkc': 'K2HFILE = /etc/passwd#/../..%s/k2hdkc.k2h'
                        % DATA_DIR,
    'comment_after_space': 'K2HFILE = /etc/passwd #/../..%s/k2hdkc.k2h'
                           % DATA_DIR,
    'quoted': 'K2HFILE = "%s/k2hdkc.k2h"' % DATA_DIR,
    'single_quoted': "K2HFILE = '%s/k2hdkc.k2h'" % DATA_DIR,
    'backslash': 'K2HFILE = %s/k2hdkc\\.k2h' % DATA_DIR,
    'nul': 'K2HFILE = %s/a\0b' % DATA_DIR,
    'no_break_space': 'K2HFILE = \u00a0%s/k2hdkc.k2h' % DATA_DIR,
    'carriage_return': 'K2HFILE = %s/k2hdkc.k2h\r/../../../../etc/x'
                       % DATA_DIR,
}


@pytest.mark.parametrize('name', sorted(READ_DIFFERENTLY))
def test_value_chmpx_or_k2hdkc_read_differently_is_refused(
        base, name):  # noqa: F811
    text = _sub(base, K2HFILE_LINE, READ_DIFFERENTLY[name])
    with pytest.raises(InvalidIniError) as info:
        ini.check_ini(text, NODE1_CLI, TRUST)
    assert any('[K2HDKC] K2HFILE holds' in p
               for p in info.value.problems), info.value.problems
    assert 'passwd' not in str(info.value)


def test_line_breaks_are_newlines_only(base):  # noqa: F811
    """chmpx/k2hdkc split lines at \\n only: a \\x1c (a line break to
    ``str.splitlines``) stays inside the K2HFILE value."""
    text = _sub(base, K2HFILE_LINE, 'K2HFILE = %s/x\x1cK2HINIT = no'
                % DATA_DIR)
    with pytest.raises(InvalidIniError, match=r'K2HFILE holds the '
                                              r'character U\+001C'):
        ini.check_ini(text, NODE1_CLI, TRUST)


def test_section_header_must_be_exact(base):  # noqa: F811
    """``[ K2HDKC ]`` is no section to chmpx or k2hdkc (they compare the
    whole line), so its keys would not be what k2hdkc runs with."""
    text = _replace(base, '[K2HDKC]', '[ K2HDKC ]')
    with pytest.raises(InvalidIniError, match=r'unknown section \[ K2HDKC'):
        ini.check_ini(text, NODE1_CLI, TRUST)


@pytest.mark.parametrize('line', ['K2HATTR_ENCFILE = /etc/passwd',
                                  'K2HATTRPLUGIN = /tmp/evil.so',
                                  'K2HMTXLIB = /tmp/evil.so'])
def test_attribute_library_keys_do_not_exist(base, line):  # noqa: F811
    with pytest.raises(InvalidIniError, match='unknown key'):
        ini.check_ini(_k2hdkc_line(base, line), NODE1, TRUST)


#: chmpx keeps ports in a signed 16-bit field; counts that exhaust the
#: host or that chmpx/k2hdkc refuse.
OUT_OF_BOUNDS = [
    (r'^PORT .*28020$', 'PORT = 40000', 'PORT must be a port number '
                                        '(1-32767)'),
    (r'^CTLPORT .*28021$', 'CTLPORT = 32768', 'CTLPORT must be a port'),
    (r'^MAXMQSERVER .*$', 'MAXMQSERVER = 129', 'within 1-128'),
    (r'^MAXCHMPX .*$', 'MAXCHMPX = 99999999999', 'within 1-32768'),
    (r'^SOCKTHREADCNT .*$', 'SOCKTHREADCNT = 100000', 'within 0-1024'),
    (r'^MAXTHREAD .*$', 'MAXTHREAD = 100000', 'within 1-1024'),
    (r'^K2HPAGESIZE .*$', 'K2HPAGESIZE = 0', 'within 1-'),
    (r'^REPLICA .*$', 'REPLICA = \u00b2', 'U+00B2'),
]


@pytest.mark.parametrize('pattern,line,message', OUT_OF_BOUNDS)
def test_number_out_of_bounds(reference_dir, pattern, line, message):
    text = (reference_dir / 'ini/3nodes-explicit/server-node1.ini'
            ).read_text()
    with pytest.raises(InvalidIniError) as info:
        ini.check_ini(_sub(text, pattern, line), NODE1)
    assert any(message in p for p in info.value.problems), \
        info.value.problems


def test_k2hdkc_thread_and_plugin_bounds(base):  # noqa: F811
    for line, message in (('DTORTHREADCNT = 65', 'within 0-64'),
                          ('RCVTIMEOUT = 0', 'within 1-'),
                          ('K2HMASKBIT = 29', 'within 2-28')):
        with pytest.raises(InvalidIniError, match=re.escape(message)):
            ini.check_ini(_k2hdkc_line(base, line), NODE1)
