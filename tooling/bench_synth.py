"""Benchmark: how long synth takes, and what the lightweight provider import saves.

    make bench-synth            (python -m tooling.bench_synth [--repeat N])

Prints, from one run, the wall time of
  (a) the project's full synth (`python main.py`, ENV=local),
  (b) a one-bucket synth that imports the provider package the naive way,
  (c) the same one-bucket synth through the project's import path (building_blocks),
each the median of N fresh processes, plus the ratio a/c (target: at most 1.5).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

ONE_BUCKET = """
import sys
{prelude}
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
app = App(outdir=sys.argv[1])
stack = TerraformStack(app, "bench")
AwsProvider(stack, "aws", region="us-east-1")
S3Bucket(stack, "bucket", bucket="bench-bucket")
app.synth()
"""
NAIVE = ONE_BUCKET.format(prelude="")
PROJECT = ONE_BUCKET.format(prelude="import building_blocks  # lightweight provider package")


def time_process(args: list[str], env: dict[str, str]) -> float:
    """Wall time of one fresh Python process, in seconds; raises if it fails."""
    started = time.perf_counter()
    subprocess.run(args, cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(label: str, args_for: callable, repeat: int, env: dict[str, str]) -> float:
    samples = []
    for attempt in range(1, repeat + 1):
        with tempfile.TemporaryDirectory() as outdir:
            samples.append(time_process(args_for(outdir), {**env, "CDKTF_OUTDIR": outdir}))
        print(f"  {label}: run {attempt}/{repeat} {samples[-1]:.2f} s", file=sys.stderr, flush=True)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per figure (default 3)")
    args = parser.parse_args(argv)
    env = {**os.environ, "ENV": "local", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    python = sys.executable
    print(f"timing {args.repeat} fresh processes each (progress on stderr)...", flush=True)
    full = measure("(a) full synth", lambda out: [python, "main.py"], args.repeat, env)
    naive = measure("(b) one bucket, naive import", lambda out: [python, "-c", NAIVE, out], args.repeat, env)
    fast = measure("(c) one bucket, project import", lambda out: [python, "-c", PROJECT, out], args.repeat, env)
    print(f"(a) full synth of every local stack      {full:6.2f} s")
    print(f"(b) one-bucket synth, naive import       {naive:6.2f} s")
    print(f"(c) one-bucket synth, project import     {fast:6.2f} s")
    print(f"a/c = {full / fast:.2f} (target <= 1.5); naive import costs {naive - fast:.2f} s more than (c)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
