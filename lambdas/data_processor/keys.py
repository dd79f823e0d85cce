"""Key layout of the raw and processed buckets (pure functions, no I/O).

Raw:        incoming/<dataset>/<path>
Processed:  processed/<dataset>/dt=<date>/<name>/<version>.csv.gz              clean rows
            processed/<dataset>/dt=<date>/<name>/<version>.manifest.json        counts, hashes, outputs
            quarantine/<dataset>/dt=<date>/<name>/<version>.rejected.csv.gz     bad rows with their reasons
            quarantine/<dataset>/dt=<date>/<name>/<version>/<file name>         a whole rejected object (copy)
            quarantine/<dataset>/dt=<date>/<name>/<version>/report.json         why it was rejected
            index/<dataset>/<path>.json                                         the current version's outputs
where name is <path> without its .csv.gz/.csv/.gz suffix and with "/" replaced by "--", version is the
raw object's S3 version id (version_token), and date is that version's LastModified day (UTC), so a duplicate
delivery or a backfill of the same version writes the same keys. An object that is not under
incoming/<known dataset>/<path> goes to the "_unknown" dataset of the quarantine, with its whole key (minus
incoming/) as name. The index key is the raw key with index/ for incoming/ and .json added: one per raw
object, never shared (names may be: a/b.csv and a--b.csv.gz both have the name a--b).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

INCOMING_PREFIX = "incoming/"
INDEX_PREFIX = "index/"
UNKNOWN_DATASET = "_unknown"
REPORT_NAME = "report.json"
UNVERSIONED = "null"  # S3's own name for the version of an object written while versioning was off
_SUFFIXES = (".csv.gz", ".csv", ".gz")  # longest first
# S3 version ids are opaque strings: most are like "Yzm.NY9HYn7Z_tLy84cN6iCHIBC.kLHF", some hold '+' or '/'
# (which would split or blur a key). Only ids of these characters go into keys as they are; the rest are hashed.
_SAFE_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


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


def version_token(version_id: str | None) -> str:
    """The version as it appears in output keys: the S3 version id itself when it is made of safe characters
    (letters, digits, . _ -, starting with a letter or digit, at most 128), "null" for an unversioned object,
    else "_" + the first 32 hex digits of its SHA-256 (the leading "_" keeps it apart from every safe id)."""
    if version_id is None:
        return UNVERSIONED
    if _SAFE_VERSION.fullmatch(version_id):
        return version_id
    return "_" + hashlib.sha256(version_id.encode("utf-8")).hexdigest()[:32]


def index_key(source: SourceKey) -> str:
    """index/<key minus incoming/>.json: the pointer to the current version's outputs of one raw object.
    Keyed by the whole raw path, not by name, so two raw objects never share one (only for readable keys)."""
    if not source.readable:
        raise ValueError(f"{source.key!r} is not under {INCOMING_PREFIX}: it has no index")
    return f"{INDEX_PREFIX}{source.key[len(INCOMING_PREFIX) :]}.json"


def partition_date(moment: datetime) -> str:
    """YYYY-MM-DD of `moment` in UTC (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class OutputKeys:
    """Where one processed version's outputs go in the processed bucket."""

    clean: str
    rejected: str
    manifest: str

    def all(self) -> tuple[str, ...]:
        """Every key, in the order results list them: clean, rejected, manifest."""
        return (self.clean, self.rejected, self.manifest)


def output_keys(dataset: str, date: str, name: str, version: str) -> OutputKeys:
    """The processed, rejected and manifest keys of version `version` (a version_token) of source `name` of
    `dataset`, on day `date`."""
    folder = f"{dataset}/dt={date}/{name}"
    return OutputKeys(
        clean=f"processed/{folder}/{version}.csv.gz",
        rejected=f"quarantine/{folder}/{version}.rejected.csv.gz",
        manifest=f"processed/{folder}/{version}.manifest.json",
    )


@dataclass(frozen=True)
class QuarantineKeys:
    """Where a whole rejected object's copy and report go (or the report alone, when nothing was read)."""

    copy: str
    report: str

    def all(self) -> tuple[str, ...]:
        return (self.copy, self.report)


def quarantine_keys(source: SourceKey, known: bool, date: str, version: str) -> QuarantineKeys:
    """Keys of a whole-object quarantine of version `version` (a version_token). `known`: the dataset exists;
    otherwise it goes to _unknown with the whole key (minus incoming/) as the name, so two unknown datasets
    never collide."""
    if known and source.dataset is not None:
        dataset, name = source.dataset, source_name(source.path)
    else:
        dataset = UNKNOWN_DATASET
        name = source_name(source.key[len(INCOMING_PREFIX) :] if source.readable else source.key)
    folder = f"quarantine/{dataset}/dt={date}/{name}/{version}"
    return QuarantineKeys(copy=f"{folder}/{file_name(source.key)}", report=f"{folder}/{REPORT_NAME}")
