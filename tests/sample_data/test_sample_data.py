"""sample_data: deterministic, realistic churn rows; exact bad-row counts by kind; files and bad files; CLI."""

from __future__ import annotations

import csv
import gzip
import io
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from sample_data import (
    BAD_FILE_KINDS,
    BATCH_COLUMNS,
    COLUMNS,
    DEFECT_KINDS,
    LABEL,
    bad_file_bytes,
    batch_csv_bytes,
    csv_bytes,
    generate_rows,
    write_bad_file,
    write_csv,
)
from sample_data.__main__ import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_same_seed_gives_the_same_rows_and_another_seed_does_not():
    first = list(generate_rows(500, seed=11, bad_fraction=0.05))
    assert first == list(generate_rows(500, seed=11, bad_fraction=0.05))
    assert first != list(generate_rows(500, seed=12, bad_fraction=0.05))


def test_clean_rows_do_not_depend_on_which_rows_are_bad():
    clean = list(generate_rows(300, seed=2))
    with_bad = list(generate_rows(300, seed=2, bad_rows=30))
    for plain, maybe_bad in zip(clean, with_bad, strict=True):
        if maybe_bad.defect is None:
            assert maybe_bad == plain


@pytest.mark.parametrize("bad_rows", [0, 1, 8, 21, 300])
def test_bad_rows_is_exact_and_cycles_through_every_kind(bad_rows):
    rows = list(generate_rows(300, seed=5, bad_rows=bad_rows))
    kinds = Counter(row.defect for row in rows if row.defect)
    assert sum(kinds.values()) == bad_rows
    for index, kind in enumerate(DEFECT_KINDS):
        assert kinds[kind] == bad_rows // len(DEFECT_KINDS) + (index < bad_rows % len(DEFECT_KINDS))


def test_bad_fraction_is_roughly_honoured():
    rows = list(generate_rows(20000, seed=1, bad_fraction=0.02))
    assert 300 < sum(row.defect is not None for row in rows) < 500


def test_every_defect_changes_the_row():
    for clean, bad in zip(generate_rows(400, seed=8), generate_rows(400, seed=8, bad_rows=400), strict=True):
        assert bad.fields != clean.fields, bad.defect


def test_invalid_arguments_are_refused():
    with pytest.raises(ValueError, match="bad_fraction"):
        next(generate_rows(10, seed=0, bad_fraction=1.5))
    with pytest.raises(ValueError, match="bad_rows 11"):
        next(generate_rows(10, seed=0, bad_rows=11))


def test_rows_look_like_a_churn_export():
    rows = [dict(zip(COLUMNS, row.fields, strict=True)) for row in generate_rows(20000, seed=3)]
    churn_rate = Counter(row["churned"] for row in rows)["true"] / len(rows)
    assert 0.15 < churn_rate < 0.35

    def rate(column: str, value: str) -> float:
        group = [row for row in rows if row[column] == value]
        return sum(row["churned"] == "true" for row in group) / len(group)

    assert rate("contract", "month-to-month") > 3 * rate("contract", "two-year"), "label follows the contract"
    assert rate("internet_service", "fiber-optic") > rate("internet_service", "none")
    assert len({row["customer_id"] for row in rows}) == len(rows)
    assert all(row["total_charges"] == "" for row in rows if row["tenure_months"] == "0")
    assert any(row["tenure_months"] == "0" for row in rows), "new customers exist (optional total_charges)"
    contracts = Counter(row["contract"] for row in rows)
    assert contracts.most_common(1)[0][0] == "month-to-month"


def test_write_csv_is_deterministic_and_reports_what_it_wrote(tmp_path):
    first = write_csv(tmp_path / "a.csv", seed=4, rows=200, bad_rows=16)
    second = write_csv(tmp_path / "b.csv", seed=4, rows=200, bad_rows=16)
    assert first.sha256 == second.sha256 and first.rows == 200 and first.bad_rows == 16
    assert first.defects == dict.fromkeys(DEFECT_KINDS, 2)
    parsed = list(csv.reader(io.StringIO((tmp_path / "a.csv").read_text(), newline="")))
    assert parsed[0] == list(COLUMNS) and len(parsed) == 201
    assert "200 rows (16 bad" in first.describe()


def test_gzip_files_are_deterministic_too(tmp_path):
    first = write_csv(tmp_path / "a.csv.gz", seed=4, rows=100, gzip_output=True)
    second = write_csv(tmp_path / "b.csv.gz", seed=4, rows=100, gzip_output=True)
    assert first.sha256 == second.sha256 and first.gzip
    assert gzip.decompress((tmp_path / "a.csv.gz").read_bytes()) == (
        write_csv(tmp_path / "c.csv", seed=4, rows=100).path.read_bytes()
    )


def test_target_size_writes_about_that_many_megabytes(tmp_path):
    summary = write_csv(tmp_path / "s.csv", seed=0, target_mb=0.5)
    assert 500_000 <= summary.bytes < 500_000 + 200
    with pytest.raises(ValueError, match="exactly one"):
        write_csv(tmp_path / "x.csv", rows=5, target_mb=1)


def test_each_bad_file_kind_is_deterministic_and_distinct():
    contents = {kind: bad_file_bytes(kind, limit_bytes=10_000) for kind in BAD_FILE_KINDS}
    assert contents == {kind: bad_file_bytes(kind, limit_bytes=10_000) for kind in BAD_FILE_KINDS}
    assert contents["empty"] == b""
    assert len(contents["oversize"]) > 10_000 and contents["oversize"].startswith(",".join(COLUMNS).encode())
    assert contents["fake_gzip"][:2] != b"\x1f\x8b" and contents["truncated_gzip"][:2] == b"\x1f\x8b"
    assert b"\x00" in contents["not_csv"]
    with pytest.raises(UnicodeDecodeError):
        contents["not_utf8"].decode("utf-8")
    assert len(set(contents.values())) == len(BAD_FILE_KINDS)


def test_bad_files_are_written_and_oversize_needs_a_limit(tmp_path):
    assert write_bad_file("wrong_header", tmp_path / "w.csv").path.read_bytes() == bad_file_bytes("wrong_header")
    big = write_bad_file("oversize", tmp_path / "big.csv", limit_bytes=300_000)
    assert big.bytes > 300_000
    with pytest.raises(ValueError, match="limit_bytes"):
        bad_file_bytes("oversize")
    with pytest.raises(ValueError, match="unknown bad file kind"):
        bad_file_bytes("haunted")


def test_csv_bytes_is_a_small_valid_file():
    assert csv_bytes(2).decode().splitlines()[0] == ",".join(COLUMNS)
    assert len(csv_bytes(2).decode().splitlines()) == 3


def test_csv_bytes_holds_exactly_the_bad_rows_asked_for():
    def rows(data: bytes) -> list[list[str]]:
        return list(csv.reader(io.StringIO(data.decode(), newline="")))[1:]

    written = rows(csv_bytes(40, seed=3, bad_rows=8))
    assert written == [list(row.fields) for row in generate_rows(40, 3, bad_rows=8)]
    assert written != rows(csv_bytes(40, seed=3))


def test_cli_writes_rows_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "churn.csv.gz"
    assert main(["--rows", "50", "--bad-rows", "8", "--seed", "3", "--gzip", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}: 50 rows (8 bad: bad_bool=1" in printed and "gzip" in printed
    assert gzip.decompress(out.read_bytes()).count(b"\n") == 51


def test_cli_writes_bad_files(tmp_path, capsys):
    out = tmp_path / "bad.csv.gz"
    assert main(["--bad-file", "fake_gzip", "--out", str(out)]) == 0
    assert "(bad file: fake_gzip)" in capsys.readouterr().out
    assert out.read_bytes() == bad_file_bytes("fake_gzip")


def test_cli_reports_bad_arguments(tmp_path, capsys):
    assert main(["--rows", "5", "--bad-rows", "9", "--out", str(tmp_path / "x.csv")]) == 2
    assert "bad_rows 9" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--size-mb", "1", "--bad-rows", "2", "--out", str(tmp_path / "x.csv")])


def test_module_runs_as_a_script_with_the_same_bytes_in_every_process(tmp_path):
    """String seeds do not depend on PYTHONHASHSEED: two processes write identical files."""
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"c{hash_seed}.csv"
        done = subprocess.run(
            [sys.executable, "-m", "sample_data", "--rows", "300", "--bad-rows", "9", "--out", str(out)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        assert done.stdout.startswith(f"wrote {out}: 300 rows (9 bad")
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_excel_export_has_a_bom_crlf_line_ends_and_trailing_empty_lines() -> None:
    from sample_data import EXCEL_TRAILING_BLANK_LINES, csv_bytes, excel_csv_bytes

    data = excel_csv_bytes(5, seed=2)
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n" * (EXCEL_TRAILING_BLANK_LINES + 1))
    assert text.replace("\r\n", "\n").rstrip("\n") + "\n" == csv_bytes(5, seed=2).decode()


def _batch_validation(data: bytes) -> tuple[int, int]:
    """(valid, rejected) rows of an inference batch under the served model's batch schema, as preprocess checks."""
    import platform_config
    from data_processor.processing import process_csv  # lambdas/ is on the path (pytest.ini)
    from data_processor.schema import compile_dataset
    from platform_config.datasets import load_datasets
    from platform_config.serving import batch_schema

    schema = compile_dataset(batch_schema(platform_config.load("local"), load_datasets()).to_json())
    result = process_csv(io.BytesIO(data), schema, clean_out=io.BytesIO(), rejected_out=io.BytesIO())
    return result.rows_written, result.rows_quarantined


def test_an_unlabeled_batch_has_every_column_but_the_label_and_counts_only_defects_that_remain():
    data, bad = batch_csv_bytes(400, seed=3, bad_rows=40)
    header = data.decode().splitlines()[0].split(",")
    assert header == list(BATCH_COLUMNS) and LABEL not in header
    # Defects that were only in the label (bad bools, an emptied label) leave with it: fewer bad rows remain.
    assert 0 < bad < 40
    assert _batch_validation(data) == (400 - bad, bad)


def test_cli_writes_an_unlabeled_batch(tmp_path, capsys):
    out = tmp_path / "batch.csv"
    assert main(["--rows", "30", "--unlabeled", "--out", str(out)]) == 0
    assert out.read_text().splitlines()[0] == ",".join(BATCH_COLUMNS)
    assert "wrote" in capsys.readouterr().out
