"""`python -m pipelines.indicators generate|validate [--catalogue-dir D] [--out-dir D]`."""
from __future__ import annotations

import argparse
import sys
import time

from pipelines.indicators.catalogue import CatalogueError, load_catalogue
from pipelines.indicators.generator import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.indicators")
    parser.add_argument("command", choices=["generate", "validate"])
    parser.add_argument("--catalogue-dir", default=None, help="default: models/indicators")
    parser.add_argument("--out-dir", default=None, help="default: dbt_project/models/indicators/generated")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        if args.command == "validate":
            entries = load_catalogue(args.catalogue_dir)
            print(f"{len(entries)} indicators valid")
        else:
            files = generate(args.catalogue_dir, args.out_dir)
            print(f"wrote {len(files)} files in {time.perf_counter() - started:.2f}s")
    except CatalogueError as exc:
        print(f"catalogue error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
