"""Node backups: k2hash archive -> gzip -> AES-CBC -> Swift, and back.

doc/backup.md describes the format, the guarantee and the CLI contract.
"""
