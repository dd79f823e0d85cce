"""Benchmark: the data processor's streaming core against a bare stdlib floor, on the same files.

    make bench-processor        (python -m tooling.bench_processor [--sizes 10,200] [--repeat 2] [--seed 0])

Inputs: deterministic churn CSVs of about each size in MB (sample_data, 1% bad rows), generated into a
temporary directory. Each measurement runs in a fresh subprocess, reading a local file and writing gzip
output (level 6, mtime 0) to byte-counting sinks:
  floor      csv.reader → csv.writer → gzip: the least any CSV-to-gzip-CSV pass can cost in Python;
  processor  data_processor.processing.process_csv, the Lambda's own code path minus S3: sha256 of the
             input, gzip detection, NUL guard, strict UTF-8, header check, validation, clean and rejected
             outputs.
Figures: wall time (best of --repeat), throughput (input MB / wall s), peak RSS (ru_maxrss) and RSS growth
(peak minus the process's ru_maxrss after imports and setup, i.e. over the interpreter baseline; the
largest of the repeats). Targets, printed beside the figures (no assertion): the processor's RSS growth
on the largest input within 1.2x of the smallest's, and its throughput at least 50% of the floor's.
Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from tooling.bench_common import CountingSink, best_of_alternating, max_rss_kib, run_child, verdicts
from tooling.code_layout import use_deployed_layout

REPO_ROOT = Path(__file__).resolve().parent.parent
GZIP_LEVEL = 6  # the processor's output level (data_processor.processing.GZIP_LEVEL); checked in the child
BAD_FRACTION = 0.01
MB = 1_000_000
MIB = 1024 * 1024


def run_floor(path: Path) -> dict[str, Any]:
    """csv.reader → csv.writer → gzip into a counting sink."""
    sink = CountingSink()
    baseline = max_rss_kib()
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as source:
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=sink, compresslevel=GZIP_LEVEL, mtime=0)
        text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
        csv.writer(text, lineterminator="\n").writerows(csv.reader(source))
        text.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "baseline_kib": baseline, "peak_kib": max_rss_kib(), "out_bytes": sink.count}


def run_processor(path: Path) -> dict[str, Any]:
    """data_processor.processing.process_csv into two counting sinks."""
    use_deployed_layout()
    from data_processor import processing
    from data_processor.schema import parse_schemas
    from platform_config.datasets import load_datasets, schemas_json

    if processing.GZIP_LEVEL != GZIP_LEVEL:
        raise SystemExit(f"the floor must use the processor's gzip level {processing.GZIP_LEVEL}")
    schema = parse_schemas(schemas_json(load_datasets()))["churn"]
    clean, rejected = CountingSink(), CountingSink()
    baseline = max_rss_kib()
    started = time.perf_counter()
    with path.open("rb", buffering=0) as source:
        result = processing.process_csv(source, schema, clean_out=clean, rejected_out=rejected)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "baseline_kib": baseline,
        "peak_kib": max_rss_kib(),
        "out_bytes": clean.count + rejected.count,
        "rows_read": result.rows_read,
        "rows_quarantined": result.rows_quarantined,
    }


def measure(mode: str, path: Path) -> dict[str, Any]:
    """One run of `mode` on `path` in a fresh interpreter."""
    return run_child("tooling.bench_processor", ["--child", mode, str(path)], f"{mode} run on {path.name}")


def generate(directory: Path, size_mb: float, seed: int) -> Path:
    from sample_data import write_csv

    path = directory / f"churn-{size_mb:g}mb.csv"
    started = time.perf_counter()

    def progress(rows: int, written: int) -> None:
        print(f"  generating {path.name}: {written / MB:.0f}/{size_mb:g} MB ({rows} rows)", file=sys.stderr, flush=True)

    summary = write_csv(path, seed=seed, target_mb=size_mb, bad_fraction=BAD_FRACTION, on_progress=progress)
    print(
        f"  generated {path.name}: {summary.bytes / MB:.1f} MB, {summary.rows} rows ({summary.bad_rows} bad) "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    return path


def bench(sizes: list[float], repeat: int, seed: int, workdir: Path) -> dict[float, dict[str, dict[str, Any]]]:
    """{size: {mode: figures}}: best wall time and largest RSS growth of `repeat` runs of each mode."""
    figures: dict[float, dict[str, dict[str, Any]]] = {}
    for size in sizes:
        path = generate(workdir, size, seed)
        in_bytes = path.stat().st_size
        best = best_of_alternating(("floor", "processor"), repeat, partial(measure, path=path), label=f"{size:g} MB")
        figures[size] = {
            mode: {**f, "in_bytes": in_bytes, "mb_per_s": in_bytes / MB / f["seconds"]} for mode, f in best.items()
        }
        path.unlink()
    return figures


def report(figures: dict[float, dict[str, dict[str, Any]]]) -> str:
    lines = [
        f"{'input':>8}  {'mode':<9}  {'wall s':>7}  {'MB/s':>6}  {'peak RSS MiB':>12}  {'RSS growth MiB':>14}"
        f"  {'rows (bad)':>17}  {'out MB':>7}"
    ]
    for modes in figures.values():
        for mode, f in modes.items():
            rows = f"{f['rows_read']} ({f['rows_quarantined']})" if "rows_read" in f else ""
            lines.append(
                f"{f['in_bytes'] / MB:>5.0f} MB  {mode:<9}  {f['seconds']:>7.2f}  {f['mb_per_s']:>6.1f}  "
                f"{f['peak_mib']:>12.1f}  {f['growth_mib']:>14.1f}  {rows:>17}  {f['out_bytes'] / MB:>7.1f}"
            )
    lines.append("")
    lines += verdicts(figures, mode="processor", rate="mb_per_s", label=lambda size: f"{size:g} MB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,200", help="input sizes in MB, comma-separated (default 10,200)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per mode and size; best time kept (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="sample data seed (default 0)")
    parser.add_argument("--workdir", type=Path, help="where to generate inputs (default: a temporary directory)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, path = args.child
        runner = {"floor": run_floor, "processor": run_processor}[mode]
        print(json.dumps(runner(Path(path))))
        return 0
    sizes = sorted(float(size) for size in args.sizes.split(","))
    started = time.perf_counter()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        figures = bench(sizes, args.repeat, args.seed, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-processor-") as workdir:
            figures = bench(sizes, args.repeat, args.seed, Path(workdir))
    print(
        f"data processor streaming core vs floor (gzip level {GZIP_LEVEL}, {BAD_FRACTION:.0%} bad rows, "
        f"best of {args.repeat}; memory = ru_maxrss of a fresh process per run)"
    )
    print(report(figures))
    print(f"total bench time {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
