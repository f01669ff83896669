"""Nightly sync from Python: every connector named in cscor.toml's `nightly` job.

Run it with `python examples/nightly_sync.py [--workspace PATH|URL]`. It prints one JSON
summary per connector and exits with the most serious exit code, like `cscor run nightly`.
"""

from __future__ import annotations

import argparse
import json
import sys

import cscor_tools as cs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", help="SQLite path or postgresql:// URL")
    parser.add_argument("--job", default="nightly", help="job name in cscor.toml")
    args = parser.parse_args()

    config = cs.load_config()
    try:
        job = config.job(args.job)
    except cs.ConfigError:
        # No job configured: sync every installed connector incrementally.
        names = list(cs.available_connectors())
        full = False
    else:
        names, full = list(job.connectors), job.full

    worst = 0
    for outcome in cs.sync_many(names, workspace=args.workspace, config=config, full=full):
        if outcome.error is not None:
            print(json.dumps({"connector": outcome.connector, "error": str(outcome.error)}))
            worst = max(worst, int(outcome.error.exit_code))
            continue
        result = outcome.result
        assert result is not None
        print(json.dumps({
            "connector": result.connector,
            "status": result.status,
            "rows": result.rows(),
            "requests": result.requests,
            "duration_s": result.duration_s,
        }))
        worst = max(worst, int(result.exit_code))
    return worst


if __name__ == "__main__":
    sys.exit(main())
