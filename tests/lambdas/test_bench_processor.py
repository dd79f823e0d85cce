"""tooling.bench_processor: a tiny real run prints the table, and the verdicts follow the targets."""

from __future__ import annotations

from tooling import bench_processor


def figures(processor_mb_s: float, small_growth: float, large_growth: float) -> dict:
    def mode(mb_s: float, growth: float, rows: bool) -> dict:
        extra = {"rows_read": 10, "rows_quarantined": 1} if rows else {}
        return {
            "seconds": 1.0,
            "in_bytes": 10_000_000,
            "mb_per_s": mb_s,
            "peak_mib": 20.0 + growth,
            "growth_mib": growth,
            "out_bytes": 2_000_000,
            **extra,
        }

    return {
        10.0: {"floor": mode(20.0, 0.5, False), "processor": mode(processor_mb_s, small_growth, True)},
        200.0: {"floor": mode(20.0, 0.5, False), "processor": mode(processor_mb_s, large_growth, True)},
    }


def test_report_states_when_targets_are_met():
    text = bench_processor.report(figures(12.0, 2.0, 2.2))
    assert "processor/floor = 0.60 (meets the target >= 0.50)" in text
    assert "RSS growth 2.2 / 2.0 MiB = 1.10x (meets the target <= 1.2x)" in text


def test_report_states_when_targets_are_missed():
    text = bench_processor.report(figures(9.0, 2.0, 3.0))
    assert "processor/floor = 0.45 (MISSES the target >= 0.50)" in text
    assert "= 1.50x (MISSES the target <= 1.2x)" in text


def test_no_growth_on_either_input_is_a_ratio_of_one():
    assert "RSS growth 0.0 / 0.0 MiB = 1.00x (meets" in bench_processor.report(figures(12.0, 0.0, 0.0))
    assert "= infx (MISSES" in bench_processor.report(figures(12.0, 0.0, 1.0))


def test_a_small_run_prints_both_modes_for_each_size(tmp_path, capsys):
    assert bench_processor.main(["--sizes", "0.2,0.4", "--repeat", "1", "--workdir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    rows = [line for line in captured.out.splitlines() if " MB  floor" in line or " MB  processor" in line]
    assert len(rows) == 4
    assert "throughput, 0.4 MB: processor/floor = " in captured.out
    assert "memory, processor 0.4 MB vs 0.2 MB" in captured.out
    assert "generated churn-0.2mb.csv" in captured.err
    assert list(tmp_path.iterdir()) == [], "inputs are removed"
