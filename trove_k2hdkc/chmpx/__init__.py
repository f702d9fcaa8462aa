"""CHMPX: the control-port client, the status model and the INI validator.

* ``ctlport.ControlPortClient``: one command per TCP connection to a chmpx
  control port, typed results.
* ``status``: parsers for SELFSTATUS / ALLSTATUS / VERSION and the decoded
  node status word (``NodeStatus``).
* ``replies``: one-line ``SUCCEED`` / ``ERROR:`` reply classification.
* ``ini``: strict parser and validator of the CHMPX/K2HDKC INI, run before
  a rendered INI replaces the live one (a bad INI kills a running chmpx).
* ``errors``: this branch of the exception tree.
"""
