"""The K2HDKC INI template (package data) and its upload form.

The template is in K2HR3's own template language; K2HR3 renders it on every
read. Role member lists can only be referenced by literal YRN variables
(``%yrn:yahoo:::<tenant>:role:<cluster>/server/hosts/ip%``), so the tenant
and the resource name are filled in here before the upload, after checking
that they cannot change the template's syntax.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re

from trove_k2hdkc.k2hr3.errors import K2hr3ValueError

TEMPLATE_FILE = 'k2hdkc.ini.templ'
TENANT_MARK = '@K2HR3_TENANT@'
CLUSTER_MARK = '@K2HR3_CLUSTER@'
# Placeholder that the guest replaces with its own instance id.
SELF_INSTANCE_ID = '__SELF_INSTANCE_ID__'

# Inside a %...% variable name only these are known to be safe.
_VAR_SAFE = re.compile(r'[a-z0-9][a-z0-9_-]{0,127}')
_CLUSTER_SAFE = re.compile(r'[a-z0-9][a-z0-9_-]{0,127}')


@functools.cache
def template_source() -> str:
    """The packaged template with its placeholders."""
    ref = importlib.resources.files(__package__) / 'templates' / TEMPLATE_FILE
    return ref.read_text(encoding='utf-8')


def resource_data(tenant: str, cluster: str) -> str:
    """The string to store as the parent resource's data."""
    if not _VAR_SAFE.fullmatch(tenant or ''):
        raise K2hr3ValueError(
            'tenant name cannot be used in a K2HR3 template variable '
            '(lower-case letters, digits, "_" and "-" only)')
    if not _CLUSTER_SAFE.fullmatch(cluster or ''):
        raise K2hr3ValueError('invalid cluster resource name')
    text = template_source().replace(TENANT_MARK, tenant)
    text = text.replace(CLUSTER_MARK, cluster)
    if '@K2HR3_' in text:
        raise K2hr3ValueError('template has an unknown placeholder')
    return text


#: A template line that sets an INI key: ``KEY = ...`` (the key only is
#: named in errors; the line is the user's text).
_KEY_LINE = re.compile(r'\s*([A-Za-z][A-Za-z0-9_]*)\s*=')


def edits(tenant: str, cluster: str, stored: str | None,
          limit: int = 3) -> list[str]:
    """How ``stored`` (the parent resource's data read back) differs from
    what ``resource_data`` writes: ``line N (KEY)`` per changed or added
    line, ``template line N missing`` per missing one, at most ``limit``; empty
    when they are equal.

    Why: the project's user can rewrite the template with their own token
    (doc/k2hr3-layout.md §5); an operation refuses an edited one naming
    the lines rather than rewriting it silently or acting on it.
    """
    want = resource_data(tenant, cluster).split('\n')
    have = (stored or '').split('\n')
    found: list[str] = []
    matcher = difflib.SequenceMatcher(a=want, b=have, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == 'equal':
            continue
        for number in range(b0, b1):
            match = _KEY_LINE.match(have[number])
            found.append('line %d (%s)' % (
                number + 1, match.group(1) if match else 'changed'))
        if b0 == b1:
            found.extend('template line %d missing' % (n + 1)
                         for n in range(a0, a1))
    return found[:limit]
