"""The README's "Using cdktf directly": from a plain shell (no make variables, Terraform's CLI config
pointing nowhere, someone's real-looking AWS keys), `eval "$(make env)"` then `npx cdktf diff <stack>`
plans against the emulator and finds the deployed stack unchanged."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import Synthesized

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_cdktf_diff_by_hand_after_make_env_finds_no_changes(
    deployed: Synthesized, emulator_url: str, tmp_path: Path
) -> None:
    assert deployed.config.local_state_dir is not None
    plain_shell = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TF_CLI_CONFIG_FILE": str(tmp_path / "no-such.tfrc"),  # as on a machine whose config is elsewhere
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",  # never sent: the local provider carries its own keys
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "CI": "1",  # plain lines instead of the spinner
        # Where this test's emulator and state are; a developer's shell has the defaults (4566, .state/local).
        "EMULATOR_PORT": str(urlparse(emulator_url).port),
        "LOCAL_STATE_DIR": str(deployed.config.local_state_dir),
    }
    stack = deployed.config.stack_name("artifact-store")
    script = f'eval "$(make --no-print-directory env)" && npx cdktf diff {stack} --output {tmp_path / "cdktf.out"}'
    result = subprocess.run(
        ["bash", "-c", script], cwd=REPO, env=plain_shell, capture_output=True, text=True, timeout=900, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "No changes." in output
    # cdktf's `terraform providers lock` ignores the mirror and fails offline; make env skips it.
    assert "Could not retrieve providers for locking" not in output
    assert "end-of-life" not in output  # the jsii banner on Node 20 is silenced by make env
