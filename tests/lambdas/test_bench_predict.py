"""tooling.bench_predict: a tiny real run prints the table through the handler's whole code path, and the verdicts
follow the targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tooling import bench_predict


def figures(handler_rows_s: float, small_growth: float, large_growth: float) -> dict:
    def mode(rows_s: float, growth: float, handler: bool) -> dict:
        extra = {"out_bytes": 2_000_000} if handler else {}
        return {
            "seconds": 1.0,
            "rows_per_s": rows_s,
            "peak_mib": 60.0 + growth,
            "growth_mib": growth,
            "positive": 12,
            **extra,
        }

    return {
        100_000: {"floor": mode(700_000.0, 0.5, False), "handler": mode(handler_rows_s, small_growth, True)},
        1_000_000: {"floor": mode(700_000.0, 0.5, False), "handler": mode(handler_rows_s, large_growth, True)},
    }


def test_report_states_when_targets_are_met() -> None:
    text = bench_predict.report(figures(420_000.0, 10.0, 11.0))
    assert "throughput, 1000000 rows: handler/floor = 0.60 (meets the target >= 0.50)" in text
    assert (
        "memory, handler 1000000 rows vs 100000 rows: RSS growth 11.0 / 10.0 MiB = 1.10x "
        "(meets the target <= 1.2x)" in text
    )


def test_report_states_when_targets_are_missed() -> None:
    text = bench_predict.report(figures(280_000.0, 10.0, 30.0))
    assert "handler/floor = 0.40 (MISSES the target >= 0.50)" in text
    assert "= 3.00x (MISSES the target <= 1.2x)" in text


def test_a_single_size_reports_no_memory_comparison() -> None:
    text = bench_predict.report({500: figures(420_000.0, 1.0, 1.0)[100_000]})
    assert "throughput, 500 rows" in text and "memory," not in text


def test_a_small_run_scores_through_the_handler_and_prints_both_modes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_predict.main(["--rows", "300,600", "--repeat", "1", "--workdir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    rows = [line.split() for line in captured.out.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    assert [(row[0], row[1]) for row in rows] == [
        ("300", "floor"),
        ("300", "handler"),
        ("600", "floor"),
        ("600", "handler"),
    ]
    # The handler labels every row as the bare loop does (the same model, the same rows).
    assert rows[0][6] == rows[1][6] and rows[2][6] == rows[3][6]
    assert "throughput, 600 rows: handler/floor = " in captured.out
    assert "memory, handler 600 rows vs 300 rows" in captured.out
    assert "generated batch-300-rows.csv.gz" in captured.err and "600 rows handler run 1/1" in captured.err
    assert list(tmp_path.iterdir()) == [], "inputs are removed"


def test_rows_and_repeat_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench_predict.main(["--rows", "0", "--repeat", "1"])
    assert "--rows must be positive" in capsys.readouterr().err
