"""CLI: python -m sample_data (--rows N | --size-mb M | --bad-file KIND) --out PATH [options]."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sample_data.files import BAD_FILE_KINDS, write_bad_file, write_csv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample_data", description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--rows", type=int, help="number of data rows")
    what.add_argument("--size-mb", type=float, help="about this many MB of (uncompressed) CSV")
    what.add_argument("--bad-file", choices=BAD_FILE_KINDS, help="write one broken file of this kind instead")
    parser.add_argument("--out", type=Path, required=True, help="output path")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--bad-rows", type=int, help="exactly this many bad rows (with --rows)")
    parser.add_argument("--bad-fraction", type=float, default=0.0, help="share of bad rows (default 0)")
    parser.add_argument("--gzip", action="store_true", help="gzip the CSV")
    parser.add_argument(
        "--unlabeled", action="store_true", help="an inference batch: every column but the label (make infer)"
    )
    parser.add_argument("--limit-bytes", type=int, help="size limit the oversize bad file must exceed")
    args = parser.parse_args(argv)
    try:
        if args.bad_file:
            summary = write_bad_file(args.bad_file, args.out, seed=args.seed, limit_bytes=args.limit_bytes)
            print(f"{summary.describe()} (bad file: {args.bad_file})")
            return 0
        if args.bad_rows is not None and args.rows is None:
            parser.error("--bad-rows needs --rows")
        summary = write_csv(
            args.out,
            seed=args.seed,
            rows=args.rows,
            target_mb=args.size_mb,
            bad_fraction=args.bad_fraction,
            bad_rows=args.bad_rows,
            gzip_output=args.gzip,
            unlabeled=args.unlabeled,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary.describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
