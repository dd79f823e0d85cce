"""The lightweight provider import loads only what is used and synthesizes the same JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from building_blocks.provider_modules import loaded_provider_submodules
from tests.conftest import Synthesized
from tooling.bench_synth import NAIVE, PROJECT

REPO = Path(__file__).resolve().parents[2]


def test_full_app_loads_only_the_provider_modules_it_uses(synthesized: Callable[[str], Synthesized]) -> None:
    synthesized("local")
    loaded = loaded_provider_submodules()
    assert "cdktf_cdktf_provider_aws.s3_bucket" in loaded
    assert len(loaded) < 60, f"{len(loaded)} provider modules loaded; the lightweight import was bypassed"


def test_naive_and_project_import_synthesize_identical_json(tmp_path: Path) -> None:
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    outputs = []
    for name, script in (("naive", NAIVE), ("project", PROJECT)):
        outdir = tmp_path / name
        subprocess.run(
            [sys.executable, "-c", script, str(outdir)], cwd=REPO, env=env, check=True, capture_output=True, timeout=300
        )
        outputs.append(json.loads((outdir / "stacks" / "bench" / "cdk.tf.json").read_text()))
    assert outputs[0] == outputs[1]
    assert outputs[0]["resource"]["aws_s3_bucket"]["bucket"]["bucket"] == "bench-bucket"
