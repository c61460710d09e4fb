"""`ikms`: the command line of the pipeline.

  ikms generate   write the demo country into $IKMS_DATA_DIR/landing
  ikms ingest     materialize the ingest assets (all school-year partitions) through Dagster
  ikms run        generate (unless already generated with the same parameters) and materialize everything
  ikms dev        the Dagster UI over the same data directory
"""
from __future__ import annotations

import argparse
import sys


def parse_years(text: str) -> list[int]:
    """'2015-2024' -> [2015..2024]; '2022,2024' -> [2022, 2024]."""
    years: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-", 1)
            years.extend(range(int(a), int(b) + 1))
        elif part:
            years.append(int(part))
    return sorted(set(years))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ikms", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("generate", "run"):
        p = sub.add_parser(name)
        p.add_argument("--scale", type=float, default=0.05, help="1.0 = the real national figures")
        p.add_argument("--years", type=parse_years, default=parse_years("2015-2024"), help="e.g. 2015-2024 (school-year keys)")
        p.add_argument("--seed", type=int, default=20241)
        p.add_argument("--defect-rate", type=float, default=None, help="share of rows given a defect")
    sub.add_parser("ingest")
    sub.add_parser("dev")
    args = parser.parse_args(argv)
    raise SystemExit(f"ikms {args.command}: not built yet")


if __name__ == "__main__":
    sys.exit(main())
