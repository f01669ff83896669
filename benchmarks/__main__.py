"""Run one benchmark by name and print its figures (``--json`` for one JSON object)."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

import benchmarks


def _available() -> list[str]:
    here = Path(benchmarks.__file__).parent
    return sorted(
        m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("name", nargs="?", help=f"one of: {', '.join(_available())}")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a benchmark parameter (e.g. --set rows=20000 for a quick run)",
    )
    args = parser.parse_args(argv)
    if not args.name or args.name not in _available():
        parser.print_help()
        return 2
    options = dict(item.split("=", 1) for item in args.set)
    module = importlib.import_module(f"benchmarks.{args.name}")
    result = module.run(options)
    result = {"benchmark": args.name, **result}
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=False, default=str))
    else:
        for key, value in result.items():
            if key == "targets":
                continue
            print(f"{key:>32}: {value}")
        for name, t in result.get("targets", {}).items():
            mark = "met" if t["met"] else "NOT MET"
            print(f"  target {name}: {t['value']} (target {t['target']}) {mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
