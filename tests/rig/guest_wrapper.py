"""Run Trove's unmodified guest agent entry point inside a rig VM.

``python -m trove.cmd.guest`` does nothing (no main guard), so the rig needs
this two-line wrapper. The ``[k2hdkc]`` group is registered by the plugin's
oslo.config driver named in the injected trove-guestagent.conf, exactly as
on a real guest.
"""

from __future__ import annotations

from trove.cmd import guest

if __name__ == '__main__':
    guest.main()
