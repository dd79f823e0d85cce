"""Scoring one batch: a gzip CSV of records in, gzip CSVs of predictions and of unscored rows out (no AWS calls).

    batch (gzip CSV, header = the served model's batch columns)
      ─▶ batch_reader: gunzip (background thread) ─▶ UTF-8 ─▶ header, then blocks of records as columns
                       (split in C, or csv.reader for a batch with quoted fields)
      ─▶ block_scoring: the block's feature columns checked, parsed and scored in C; model_format.score itself
                        for the few records the fast check refuses (scores identical either way)
      ─▶ gzip_outputs (background thread):
            predictions  <id_column>,score,label,model_version   score = repr(float), label = true | false
            unscored     row_number,reason,<batch columns>        records model_format.score refuses, with its reason

Every record read is scored or unscored (read == scored + unscored); row_number is the record's position in the
batch after the header.

Memory is bounded by one block of records and the codec threads' queues, whatever the batch size. Outputs are
deterministic gzip (mtime 0, no file name): the same batch and model give the same bytes. Problems with the batch
as a whole raise InvalidInferenceInput, a model feature the header lacks ModelContractError, after both outputs are
cut off (the caller aborts its uploads); other exceptions (a network error while reading, a failed upload)
propagate unchanged. Both threads have ended when score_batch returns or raises.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import ge
from typing import BinaryIO

from inference_common.contract import InvalidInferenceInput, ServedModel
from model_format import LinearModel
from predict.batch_reader import BLOCK_ROWS, CHUNK_BYTES, BatchReader, Readable
from predict.block_scoring import BlockScorer
from predict.gzip_outputs import GzipOutputs

GZIP_LEVEL = 1  # scores are 17-digit floats: level 6 saves ~6% of the bytes for ~5x the CPU
PREDICTION_COLUMNS = ("score", "label", "model_version")
UNSCORED_PREFIX_COLUMNS = ("row_number", "reason")
LABELS = ("false", "true")
PREDICTIONS, UNSCORED = 0, 1  # the outputs, by index


@dataclass(frozen=True)
class ScoreCounts:
    """What became of the batch's records: read == scored + unscored; positive counts the scored records labelled
    true."""

    read: int
    scored: int
    unscored: int
    positive: int


def score_batch(
    source: Readable,
    model: LinearModel,
    served: ServedModel,
    *,
    model_version: str,
    predictions_out: BinaryIO,
    unscored_out: BinaryIO,
    gzip_level: int = GZIP_LEVEL,
    chunk_bytes: int = CHUNK_BYTES,
    block_rows: int = BLOCK_ROWS,
) -> ScoreCounts:
    """Score the gzip CSV batch in `source` (header = served.columns) with `model`; write the predictions to
    `predictions_out` and the unscored records to `unscored_out` (gzip CSVs, module docstring), both complete
    (gzip trailer written, not closed) when this returns. model_version is written on every prediction.

    gzip_level (default GZIP_LEVEL, 1): the outputs' compression level. chunk_bytes and block_rows (defaults
    batch_reader.CHUNK_BYTES, BLOCK_ROWS): how much is scored at once. csv.field_size_limit (process-wide) is the
    dataset's row bound during the call. Raises InvalidInferenceInput (not gzip, not UTF-8, not CSV, no header, a
    header other than served.columns) and ModelContractError (a model feature the header lacks); both outputs
    are cut off first."""
    max_field_chars = int(served.dataset["max_row_kib"]) * 1024
    previous_limit = csv.field_size_limit(max_field_chars)
    outputs = GzipOutputs([predictions_out, unscored_out], gzip_level)
    reader: BatchReader | None = None
    try:
        reader = BatchReader(source, max_field_chars=max_field_chars, chunk_bytes=chunk_bytes, block_rows=block_rows)
        counts = _score_records(reader, model, served, model_version, outputs)
        outputs.finish()
    except csv.Error as exc:
        assert reader is not None  # csv reads only through it
        outputs.discard()
        raise InvalidInferenceInput(f"the batch is not valid CSV at line {reader.line_number}: {exc}") from exc
    except UnicodeDecodeError as exc:
        outputs.discard()
        raise InvalidInferenceInput(f"the batch is not UTF-8 text: {exc}") from exc
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        # Only gzip's own errors: a network OSError while reading must propagate as it is.
        outputs.discard()
        raise InvalidInferenceInput(f"the batch is not a complete gzip stream: {exc}") from exc
    except BaseException:
        outputs.discard()
        raise
    finally:
        if reader is not None:
            reader.close()
        csv.field_size_limit(previous_limit)
    return counts


def _score_records(
    reader: BatchReader,
    model: LinearModel,
    served: ServedModel,
    model_version: str,
    outputs: GzipOutputs,
) -> ScoreCounts:
    """Check the header, then score block by block; returns the counts. The hot loop."""
    header = reader.header()
    if header is None:
        raise InvalidInferenceInput("the batch is empty: it has no header")
    if tuple(header) != served.columns:
        raise InvalidInferenceInput(
            f"the batch header {','.join(header)} is not model {served.name}'s batch columns {','.join(served.columns)}"
        )
    scorer = BlockScorer(model, header, served.id_column)
    outputs.write_rows(PREDICTIONS, [(served.id_column, *PREDICTION_COLUMNS)])
    outputs.write_rows(UNSCORED, [(*UNSCORED_PREFIX_COLUMNS, *header)])
    endings = (f",false,{model_version}\n", f",true,{model_version}\n")
    plain_version = not any(map(model_version.__contains__, ',"\r\n'))
    threshold = model.threshold
    read = scored = unscored_rows = positive = 0
    for block in reader.blocks(len(header)):
        ids, scores, refused = scorer.score_block(block, read + 1)
        if refused:
            outputs.write_rows(UNSCORED, refused)
        labels = list(map(ge, scores, repeat(threshold)))
        # Split fields hold no comma, quote or line break (batch_reader): no line needs quoting, only the version may.
        plain = block.rows is None and plain_version
        _write_predictions(outputs, ids, scores, labels, endings, model_version, plain)
        read += block.size
        scored += len(scores)
        unscored_rows += len(refused)
        positive += labels.count(True)
    return ScoreCounts(read=read, scored=scored, unscored=unscored_rows, positive=positive)


def _write_predictions(
    out: GzipOutputs,
    ids: Sequence[str],
    scores: Sequence[float],
    labels: list[bool],
    endings: tuple[str, str],
    version: str,
    plain: bool,
) -> None:
    """One block's prediction lines, `<id>,<repr(score)>,<label>,<version>` (`endings`: the line's end after the
    score for a false and a true label). Joined in C from slices when that is
    the CSV csv.writer would write: no field holds a comma, a quote or a line break, which the line count shows
    (each line then has exactly 3 commas and one "\n"), or `plain` says so up front. Else csv.writer writes them."""
    size = len(scores)
    if not size:
        return
    parts = [","] * (4 * size)
    parts[0::4] = ids
    parts[2::4] = map(repr, scores)
    parts[3::4] = map(endings.__getitem__, labels)
    text = "".join(parts)
    if plain or (text.count(",") == 3 * size and text.count("\n") == size and '"' not in text and "\r" not in text):
        out.write(PREDICTIONS, text)
    else:
        out.write_rows(PREDICTIONS, zip(ids, map(repr, scores), map(LABELS.__getitem__, labels), repeat(version)))
