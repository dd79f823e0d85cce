"""What the benchmarks share: byte-counting sinks, peak RSS, best-of-N figures from fresh subprocesses, and the
verdict lines that put each figure beside its target (printed, never asserted)."""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
THROUGHPUT_TARGET = 0.5  # the code under test at least this share of its floor's rate
MEMORY_TARGET = 1.2  # RSS growth on the largest input at most this multiple of the smallest's


class CountingSink(io.RawIOBase):
    """A writable binary stream that only counts bytes (no disk, no memory growth)."""

    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.count += len(data)
        return len(data)


def max_rss_kib() -> int:
    """This process's peak resident set size so far (ru_maxrss: KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def ratio(large: float, small: float) -> float:
    """large / small; ru_maxrss moves in pages, so tiny inputs can show no growth at all (0 / 0 is 1)."""
    if small <= 0:
        return 1.0 if large <= 0 else float("inf")
    return large / small


def run_child(module: str, args: Sequence[str], what: str) -> dict[str, Any]:
    """`python -m <module> <args>` in a fresh interpreter (its RSS is its own); its stdout is one JSON document.
    A failed child ends the benchmark with its stderr, naming `what` ran."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout))


def best_of_alternating(
    modes: tuple[str, str], repeat: int, run_one: Callable[[str], dict[str, Any]], label: str
) -> dict[str, dict[str, Any]]:
    """Run each of the two modes `repeat` times, alternating which goes first (neither always runs on a warmer
    machine), with progress on stderr; per mode, the fastest run's figures plus the largest peak RSS (`peak_mib`)
    and RSS growth over the run's own baseline (`growth_mib`) of all its runs."""
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for attempt in range(1, repeat + 1):
        for mode in modes if attempt % 2 else tuple(reversed(modes)):
            result = run_one(mode)
            runs[mode].append(result)
            print(f"  {label} {mode} run {attempt}/{repeat}: {result['seconds']:.2f} s", file=sys.stderr, flush=True)
    return {
        mode: {
            **min(results, key=lambda r: r["seconds"]),
            "peak_mib": max(r["peak_kib"] for r in results) / 1024,
            "growth_mib": max(r["peak_kib"] - r["baseline_kib"] for r in results) / 1024,
        }
        for mode, results in runs.items()
    }


def verdicts(
    figures: Mapping[Any, Mapping[str, Mapping[str, Any]]], *, mode: str, rate: str, label: Callable[[Any], str]
) -> list[str]:
    """The target lines: per size, `mode`'s `rate` over the floor's; then `mode`'s RSS growth on the largest size
    over the smallest's. `label(size)` names a size ("10 MB", "1000000 rows")."""
    lines = []
    for size, modes in figures.items():
        share = modes[mode][rate] / modes["floor"][rate]
        verdict = "meets" if share >= THROUGHPUT_TARGET else "MISSES"
        lines.append(
            f"throughput, {label(size)}: {mode}/floor = {share:.2f} ({verdict} the target >= {THROUGHPUT_TARGET:.2f})"
        )
    small, large = min(figures), max(figures)
    if small != large:
        f_small, f_large = figures[small][mode], figures[large][mode]
        growth = ratio(f_large["growth_mib"], f_small["growth_mib"])
        verdict = "meets" if growth <= MEMORY_TARGET else "MISSES"
        lines.append(
            f"memory, {mode} {label(large)} vs {label(small)}: RSS growth {f_large['growth_mib']:.1f} / "
            f"{f_small['growth_mib']:.1f} MiB = {growth:.2f}x ({verdict} the target <= {MEMORY_TARGET}x); "
            f"peak RSS {f_large['peak_mib']:.1f} / {f_small['peak_mib']:.1f} MiB = "
            f"{ratio(f_large['peak_mib'], f_small['peak_mib']):.2f}x"
        )
    return lines
