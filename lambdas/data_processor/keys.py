"""Key layout of the raw and processed buckets (pure functions, no I/O).

Raw:        incoming/<dataset>/<path>
Processed:  processed/<dataset>/dt=<date>/<source_name>.csv.gz            clean rows
            processed/<dataset>/dt=<date>/<source_name>.manifest.json      counts, hashes, outputs
            quarantine/<dataset>/dt=<date>/<source_name>.rejected.csv.gz   bad rows with their reasons
            quarantine/<dataset>/dt=<date>/<source_name>/<file name>       a whole rejected object (copy)
            quarantine/<dataset>/dt=<date>/<source_name>/report.json       why it was rejected
where source_name is <path> without its .csv.gz/.csv/.gz suffix and with "/" replaced by "--", and
date is the raw object's LastModified day (UTC), so a duplicate delivery or a backfill of the same object
writes the same keys. An object that is not under incoming/<known dataset>/<path> goes to the
"_unknown" dataset of the quarantine, with its whole key (minus incoming/) as source_name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

INCOMING_PREFIX = "incoming/"
UNKNOWN_DATASET = "_unknown"
REPORT_NAME = "report.json"
_SUFFIXES = (".csv.gz", ".csv", ".gz")  # longest first


@dataclass(frozen=True)
class SourceKey:
    """A raw key split into dataset and path; dataset is None when the key is not incoming/<dataset>/<path>."""

    key: str
    dataset: str | None
    path: str

    @property
    def readable(self) -> bool:
        """The processor's role may read only incoming/*; other keys are reported, never opened."""
        return self.key.startswith(INCOMING_PREFIX)


def parse_source_key(key: str) -> SourceKey:
    """Split `incoming/<dataset>/<path>`; anything else keeps dataset None and the key minus incoming/ as path."""
    if key.startswith(INCOMING_PREFIX):
        rest = key[len(INCOMING_PREFIX) :]
        dataset, slash, path = rest.partition("/")
        if dataset and slash and path and not path.endswith("/"):
            return SourceKey(key=key, dataset=dataset, path=path)
        return SourceKey(key=key, dataset=None, path=rest)
    return SourceKey(key=key, dataset=None, path=key)


def source_name(path: str) -> str:
    """`<path>` without a trailing .csv.gz, .csv or .gz (any case), "/" replaced by "--"."""
    lowered = path.lower()
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix) and len(path) > len(suffix):
            path = path[: -len(suffix)]
            break
    name = path.strip("/").replace("/", "--")
    return name or "object"


def file_name(key: str) -> str:
    """The last segment of a key (the original file name), never empty and never the report's name."""
    name = key.rstrip("/").rpartition("/")[2] or "object"
    # A source literally named report.json must not be overwritten by the report written beside it.
    return f"source-{name}" if name == REPORT_NAME else name


def named_gzip(key: str) -> bool:
    """The key claims gzip content (the processor checks the magic bytes to see if it is true)."""
    return key.lower().endswith(".gz")


def partition_date(moment: datetime) -> str:
    """YYYY-MM-DD of `moment` in UTC (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class OutputKeys:
    """Where one processed object's outputs go in the processed bucket."""

    clean: str
    rejected: str
    manifest: str


def output_keys(dataset: str, date: str, name: str) -> OutputKeys:
    """The processed, rejected and manifest keys of source `name` of `dataset` on day `date`."""
    return OutputKeys(
        clean=f"processed/{dataset}/dt={date}/{name}.csv.gz",
        rejected=f"quarantine/{dataset}/dt={date}/{name}.rejected.csv.gz",
        manifest=f"processed/{dataset}/dt={date}/{name}.manifest.json",
    )


@dataclass(frozen=True)
class QuarantineKeys:
    """Where a whole rejected object's copy and report go."""

    copy: str
    report: str


def quarantine_keys(source: SourceKey, known: bool, date: str) -> QuarantineKeys:
    """Keys of a whole-object quarantine. `known`: the dataset exists; otherwise it goes to _unknown with
    the whole key (minus incoming/) as the name, so two unknown datasets never collide."""
    if known and source.dataset is not None:
        dataset, name = source.dataset, source_name(source.path)
    else:
        dataset = UNKNOWN_DATASET
        name = source_name(source.key[len(INCOMING_PREFIX) :] if source.readable else source.key)
    folder = f"quarantine/{dataset}/dt={date}/{name}"
    return QuarantineKeys(copy=f"{folder}/{file_name(source.key)}", report=f"{folder}/{REPORT_NAME}")
