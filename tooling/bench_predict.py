"""Benchmark: the predict Lambda's handler against a bare per-row scoring loop, on the same batches.

    make bench-predict        (python -m tooling.bench_predict [--rows 1000000,2000000] [--repeat 3] [--seed 0])

Inputs, written to a temporary directory: deterministic batch gzip CSVs of sample churn rows without the label
(sample_data.generate_rows; the smaller batch is the start of the larger), and a model fitted by the training code
(train.fit, train.export) on other sample rows. Each measurement runs in a fresh subprocess:
  floor    a bare per-row Python loop over the batch parsed beforehand into a list of lists (column indexes and
           per-category coefficient dicts precomputed): float parse, standardize, dot product, sigmoid; no I/O,
           no output: the least any per-row scorer in Python can cost;
  handler  predict.handler.handler invoked once, with an in-process stub S3 client that serves the pointer and
           the archive from memory and the batch from the file on disk as a stream, and counts (then drops) what
           is uploaded: the Lambda's whole code path (pointer, archive checks, gunzip, CSV, exact scoring,
           predictions and unscored gzip CSVs, multipart uploads, summary) minus the network.
Figures: wall time (best of --repeat), rows/s (rows / wall s), peak RSS (ru_maxrss) and RSS growth (peak minus
the process's ru_maxrss after imports and setup; the largest of the repeats). Targets, printed beside the figures
(no assertion): the handler's rows/s at least 50% of the floor's, and its RSS growth on the largest batch within
1.2x of the smallest's. The default sizes both write more than one 8 MiB upload part of predictions: below
about 600k rows the part buffer (a fixed cost) is not yet full, and a smaller batch would look flatter than it is
for that reason alone. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tooling.bench_common import CountingSink, best_of_alternating, max_rss_kib, run_child, verdicts
from tooling.code_layout import use_deployed_layout

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL = "churn"
VERSION = "1.0.0"
PRODUCTION_BUCKET = "bench-production"
INFERENCE_BUCKET = "bench-inference"
EXECUTION_ID = "bench"
RUN = f"{MODEL}/{EXECUTION_ID}/"
TRAINING_ROWS = 5000
MIB = 1024 * 1024


# ---- the floor ---------------------------------------------------------------------------------------------------


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The batch's header and rows, parsed into memory."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        return next(reader), list(reader)


def run_floor(batch: Path, model_path: Path, rows: int) -> dict[str, Any]:
    """Score every parsed row in a plain loop; counts the positives (no output)."""
    use_deployed_layout()
    import model_format

    model = model_format.load(model_path)
    header, parsed = read_rows(batch)
    if len(parsed) != rows:
        raise SystemExit(f"{batch} holds {len(parsed)} rows, expected {rows}")
    position = {name: index for index, name in enumerate(header)}
    numeric, categorical = [], []
    coefficients = iter(model.coefficients)
    for feature in model.features:
        if isinstance(feature, model_format.NumericFeature):
            numeric.append((position[feature.name], feature.mean, feature.scale, next(coefficients)))
        else:
            table = {category: next(coefficients) for category in feature.categories}
            categorical.append((position[feature.name], table))
    intercept, threshold, exp = model.intercept, model.threshold, math.exp
    baseline = max_rss_kib()
    started = time.perf_counter()
    positive = 0
    for row in parsed:
        logit = intercept
        for index, mean, scale, coefficient in numeric:
            value = row[index]
            logit += coefficient * (((float(value) if value else mean) - mean) / scale)
        for index, table in categorical:
            logit += table.get(row[index], 0.0)
        if logit >= 0.0:
            score = 1.0 / (1.0 + exp(-logit))
        else:
            e = exp(logit)
            score = e / (1.0 + e)
        positive += score >= threshold
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "baseline_kib": baseline,
        "peak_kib": max_rss_kib(),
        "rows": len(parsed),
        "positive": positive,
    }


# ---- the handler -------------------------------------------------------------------------------------------------


class StubS3:
    """The S3 calls the predict handler makes, in memory: objects served from `objects` (bytes, or a Path read
    as a stream), uploads counted per key by a CountingSink and dropped (an aborted upload's count is removed)."""

    def __init__(self, objects: dict[tuple[str, str], bytes | Path]) -> None:
        self.objects = objects
        self.uploads: dict[str, CountingSink] = {}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        source = self.objects.get((Bucket, Key))
        if source is None:
            raise ClientError({"Error": {"Code": "NoSuchKey", "Message": Key}}, "GetObject")
        return {"Body": source.open("rb") if isinstance(source, Path) else io.BytesIO(source)}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:
        self.uploads[Key] = CountingSink()
        self.uploads[Key].write(Body)
        return {"ETag": '"stub"'}

    def create_multipart_upload(self, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        self.uploads[Key] = CountingSink()
        return {"UploadId": f"upload-{Key}"}

    def upload_part(self, Bucket: str, Key: str, Body: bytes, PartNumber: int, **_: Any) -> dict[str, Any]:
        self.uploads[Key].write(Body)
        return {"ETag": f'"part-{PartNumber}"'}

    def complete_multipart_upload(self, **_: Any) -> dict[str, Any]:
        return {}

    def abort_multipart_upload(self, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        self.uploads.pop(Key, None)
        return {}

    @property
    def uploaded_bytes(self) -> int:
        return sum(sink.count for sink in self.uploads.values())


def run_handler(batch: Path, model_path: Path, rows: int) -> dict[str, Any]:
    """predict.handler.handler once over the batch of `rows` rows, against StubS3."""
    use_deployed_layout()
    from inference_common.contract import Preprocessed, RunLayout
    from lambda_common.structured_log import StructuredLogger
    from model_archive import archive_of
    from promotion.pointer import artifact_key, pointer_document, pointer_key

    archive = archive_of(model_path.read_bytes())
    pointer = pointer_document(
        model=MODEL,
        version=VERSION,
        sha256=hashlib.sha256(archive).hexdigest(),
        size=len(archive),
        sequence=1,
        promotion={"action": "promote", "approved_by": "bench", "reason": "benchmark"},
        quality={"metric": "auc", "value": 0.8, "threshold": 0.7},
        training_data_uri="s3://bench/processed/churn/",
    )
    layout = RunLayout(INFERENCE_BUCKET, RUN)
    stub = StubS3(
        {
            (PRODUCTION_BUCKET, pointer_key(MODEL)): json.dumps(pointer).encode(),
            (PRODUCTION_BUCKET, artifact_key(MODEL, VERSION)): archive,
            (INFERENCE_BUCKET, layout.batch_key): batch,
        }
    )
    os.environ.update(
        PRODUCTION_BUCKET=PRODUCTION_BUCKET,
        INFERENCE_BUCKET=INFERENCE_BUCKET,
        SERVED_MODELS_PATH=str(batch.parent / "served_models.json"),
        AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    from predict import handler

    handler.s3 = stub
    handler.log = StructuredLogger("predict", stream=io.StringIO())  # stdout carries this process's figures
    event = Preprocessed(
        model=MODEL,
        execution_id=EXECUTION_ID,
        run=RUN,
        input_uri=f"s3://{INFERENCE_BUCKET}/batches/bench.csv",
        input_sha256="0" * 64,
        input_bytes=batch.stat().st_size,
        rows_read=rows,
        rows_valid=rows,
        rows_rejected=0,
        rows_blank=0,
    ).to_dict(INFERENCE_BUCKET)
    baseline = max_rss_kib()
    started = time.perf_counter()
    result = handler.handler(event, SimpleNamespace(aws_request_id="bench"))
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "baseline_kib": baseline,
        "peak_kib": max_rss_kib(),
        "rows": result["rows"]["scored"] + result["rows"]["unscored"],
        "positive": result["rows"]["positive"],
        "out_bytes": stub.uploaded_bytes,
    }


# ---- inputs ------------------------------------------------------------------------------------------------------


def generate_batches(directory: Path, sizes: list[int], seed: int) -> dict[int, Path]:
    """Batch gzip CSVs of the first n sample rows (label left out) for each n, written in one pass."""
    from sample_data import COLUMNS, generate_rows

    largest = max(sizes)
    paths = {size: directory / f"batch-{size}-rows.csv.gz" for size in sizes}
    files = {size: gzip.GzipFile(paths[size], "wb", compresslevel=6, mtime=0) for size in sizes}
    texts = {size: io.TextIOWrapper(files[size], encoding="utf-8", newline="") for size in sizes}
    writers = {size: csv.writer(text, lineterminator="\n") for size, text in texts.items()}
    for writer in writers.values():
        writer.writerow(COLUMNS[:-1])
    started = time.perf_counter()
    open_sizes = sorted(sizes)
    for index, row in enumerate(generate_rows(largest, seed=seed)):
        while open_sizes and index >= open_sizes[0]:
            texts[open_sizes.pop(0)].close()
        fields = row.fields[:-1]
        for size in open_sizes:
            writers[size].writerow(fields)
        if (index + 1) % 200_000 == 0:
            print(f"  generating batches: {index + 1}/{largest} rows", file=sys.stderr, flush=True)
    for size in open_sizes:
        texts[size].close()
    print(
        f"  generated {', '.join(f'{p.name} ({p.stat().st_size / MIB:.1f} MiB)' for p in paths.values())} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    return paths


def fit_model(directory: Path, seed: int) -> Path:
    """model.json fitted by the training code on TRAINING_ROWS sample rows of another seed, and the served models
    document the handler reads, both in `directory`."""
    use_deployed_layout()
    import model_format
    import platform_config
    from csv_data import read_table
    from feature_spec import CHURN
    from platform_config.datasets import load_datasets
    from platform_config.serving import served_models_json
    from sample_data import COLUMNS, generate_rows
    from train import export, fit

    train_csv = directory / "train.csv"
    with train_csv.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(row.fields for row in generate_rows(TRAINING_ROWS, seed=seed + 1))
    table = read_table([train_csv], "churned", CHURN)
    fitted, converged = fit(table, CHURN, regularization=1.0, max_iter=1000)
    model = export(fitted, table, threshold=0.5, training_data_uri="s3://bench/processed/churn/", converged=converged)
    path = directory / "model.json"
    path.write_text(model_format.dumps(model), encoding="utf-8")
    (directory / "served_models.json").write_text(
        served_models_json(platform_config.load("local"), load_datasets()), encoding="utf-8"
    )
    return path


# ---- running and reporting ---------------------------------------------------------------------------------------


def measure(mode: str, batch: Path, model_path: Path, rows: int) -> dict[str, Any]:
    """One run of `mode` on `batch` (of `rows` rows) in a fresh interpreter."""
    args = ["--child", mode, str(batch), str(model_path), str(rows)]
    return run_child("tooling.bench_predict", args, f"{mode} run on {batch.name}")


def fit_in_subprocess(workdir: Path, seed: int) -> Path:
    """fit_model in a fresh interpreter: scikit-learn stays out of this process, whose peak RSS every child
    inherits (Linux keeps ru_maxrss across the fork and exec that start a child)."""
    done = subprocess.run(
        [sys.executable, "-m", "tooling.bench_predict", "--fit-model", str(workdir), "--seed", str(seed)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"fitting the model failed:\n{done.stderr}")
    return Path(done.stdout.strip())


def bench(sizes: list[int], repeat: int, seed: int, workdir: Path) -> dict[int, dict[str, dict[str, Any]]]:
    """{rows: {mode: figures}}: best wall time and largest RSS growth of `repeat` runs of each mode."""
    model_path = fit_in_subprocess(workdir, seed)
    batches = generate_batches(workdir, sizes, seed)
    figures: dict[int, dict[str, dict[str, Any]]] = {}
    for size in sizes:
        best = best_of_alternating(
            ("floor", "handler"),
            repeat,
            partial(measure, batch=batches[size], model_path=model_path, rows=size),
            label=f"{size} rows",
        )
        figures[size] = {mode: {**f, "rows_per_s": f["rows"] / f["seconds"]} for mode, f in best.items()}
    for path in (*batches.values(), model_path, workdir / "served_models.json", workdir / "train.csv"):
        path.unlink()
    return figures


def report(figures: dict[int, dict[str, dict[str, Any]]]) -> str:
    lines = [
        f"{'rows':>9}  {'mode':<8}  {'wall s':>7}  {'rows/s':>9}  {'peak RSS MiB':>12}  {'RSS growth MiB':>14}"
        f"  {'positive':>9}  {'out MB':>7}"
    ]
    for size, modes in figures.items():
        for mode, f in modes.items():
            out = f"{f['out_bytes'] / 1e6:>7.1f}" if "out_bytes" in f else f"{'':>7}"
            lines.append(
                f"{size:>9}  {mode:<8}  {f['seconds']:>7.2f}  {f['rows_per_s']:>9.0f}  {f['peak_mib']:>12.1f}  "
                f"{f['growth_mib']:>14.1f}  {f['positive']:>9}  {out}"
            )
    lines.append("")
    lines += verdicts(figures, mode="handler", rate="rows_per_s", label=lambda size: f"{size} rows")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", default="1000000,2000000", help="batch sizes in rows, comma-separated (default 1000000,2000000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode and size; best time kept (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="sample data seed (default 0)")
    parser.add_argument("--workdir", type=Path, help="where to write the inputs (default: a temporary directory)")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "BATCH", "MODEL", "ROWS"), help=argparse.SUPPRESS)
    parser.add_argument("--fit-model", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fit_model:
        print(fit_model(args.fit_model, args.seed))
        return 0
    if args.child:
        mode, batch, model_path, rows = args.child
        runner = {"floor": run_floor, "handler": run_handler}[mode]
        print(json.dumps(runner(Path(batch), Path(model_path), int(rows))))
        return 0
    sizes = sorted({int(size) for size in args.rows.split(",")})
    if sizes[0] < 1 or args.repeat < 1:
        parser.error("--rows must be positive and --repeat at least 1")
    started = time.perf_counter()
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        figures = bench(sizes, args.repeat, args.seed, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-predict-") as workdir:
            figures = bench(sizes, args.repeat, args.seed, Path(workdir))
    print(
        f"predict handler vs a bare per-row scoring loop (churn batches without the label, model fitted on "
        f"{TRAINING_ROWS} sample rows, best of {args.repeat}; memory = ru_maxrss of a fresh process per run)"
    )
    print(report(figures))
    print(f"total bench time {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
