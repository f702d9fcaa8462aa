"""Keystone's WSGI app for gunicorn in the rig.

Keystone parses ``sys.argv`` with oslo.config when its app is built; in a
gunicorn worker that is gunicorn's own command line, which it refuses.
Its configuration comes from ``OS_KEYSTONE_CONFIG_*`` instead.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402

__all__ = ['application']
