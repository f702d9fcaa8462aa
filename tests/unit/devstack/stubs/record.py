"""Appends its arguments to $STUB_LOG as one JSON list."""

import json
import os
import sys

with open(os.environ['STUB_LOG'], 'a') as log:
    log.write(json.dumps(sys.argv[1:]) + '\n')
