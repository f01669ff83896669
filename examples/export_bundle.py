"""Export a workspace from Python: a bundle under a minimization policy, then its summary.

Run it with `python examples/export_bundle.py --out PATH [--workspace PATH|URL]
[--policy portability|pseudonymized|accounting|FILE.toml] [--format jsonl|json|csv|parquet]`.
It prints one JSON object summarizing the bundle's manifest (policy, fingerprint, rows and
checksum per file) and exits with the same code `cscor export` would.
"""

from __future__ import annotations

import argparse
import json
import sys

import cscor_tools as cs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", help="SQLite path or postgresql:// URL")
    parser.add_argument("--out", required=True, help="new folder, or a file ending in .zip")
    parser.add_argument("--policy", default="portability", help="built-in name or TOML file")
    parser.add_argument("--format", default="jsonl", help="jsonl, json, csv or parquet")
    parser.add_argument("--entities", help="only these entities (comma-separated)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing bundle")
    args = parser.parse_args()

    config = cs.load_config()
    entities = [e.strip() for e in args.entities.split(",")] if args.entities else None
    try:
        with cs.open_workspace(args.workspace, config) as store:
            result = cs.export_bundle(
                store,
                args.out,
                format=args.format,
                policy=args.policy,
                entities=entities,
                zip=args.out.lower().endswith(".zip"),
                overwrite=args.overwrite,
            )
    except cs.CscorError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return int(exc.exit_code)

    manifest = result.manifest
    print(json.dumps({
        "out": str(result.out),
        "format": manifest["format"],
        "policy": manifest["policy"]["name"],
        "fingerprint": manifest["policy"]["fingerprint"],
        "schema_version": manifest["schema_version"],
        "totals": manifest["totals"],
        "files": {f["entity"]: {"path": f["path"], "rows": f["rows"], "sha256": f["sha256"]}
                  for f in manifest["files"]},
        "warnings": list(result.warnings),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
