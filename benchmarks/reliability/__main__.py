"""``python -m benchmarks.reliability child CONNECTOR BASE_URL WORKSPACE``: the sync a crash
scenario kills (see ``crash.py``)."""

from __future__ import annotations

import sys

from benchmarks.reliability.crash import child_main

if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        sys.exit(child_main(sys.argv[2:]))
    sys.exit("usage: python -m benchmarks reliability [--json] (or: … child NAME URL WORKSPACE)")
