"""Promotion end to end against the emulator, as a user runs it (`python -m promotion`, YES=1): promote v1,
promote v2, roll back to v1, promote a second model alongside. After each step production's bytes are the
candidate's, every earlier version is still there, the pointer names the right version, and a fresh plan of
the artifact store finds no drift. Afterwards the artifact store is applied back to its deployed state."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from promotion.pointer import artifact_key, parse_pointer, pointer_key
from promotion.record import LOCAL_RECORD_FILE
from tests.conftest import Synthesized
from tests.integration.terraform_cli import terraform
from tests.promotion.candidate_support import publish_candidate
from tooling.deploy import check_promotions_current

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def promotion_run(
    deployed: Synthesized, emulator_url: str, terraform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """`promotion_run("promote", "churn", "1.0.0")`: the CLI in a subprocess on the integration emulator, with its
    own synth output dir. Teardown drops the record and applies the stack as deployed (no promoted objects)."""
    outdir = tmp_path_factory.mktemp("promotion-synth")
    assert deployed.config.local_state_dir is not None
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("GITHUB_")},
        "ENV": "local",
        "EMULATOR_PORT": str(urlparse(emulator_url).port),
        "LOCAL_STATE_DIR": str(deployed.config.local_state_dir),
        "YES": "1",
    }

    def run(*args: str, fails: bool = False) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "promotion", "--outdir", str(outdir), *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert (result.returncode != 0) == fails, (
            f"promotion {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr}"
        )
        return result

    yield run
    (deployed.config.local_state_dir / LOCAL_RECORD_FILE).unlink(missing_ok=True)
    restore = terraform(
        ["apply", "-auto-approve", "-no-color"], deployed.outdir / "stacks" / "local-artifact-store", terraform_env
    )
    shutil.rmtree(outdir, ignore_errors=True)
    assert restore.returncode == 0, restore.stdout[-2000:] + restore.stderr


def test_promote_v1_then_v2_roll_back_and_a_second_model(
    promotion_run: Callable[..., subprocess.CompletedProcess[str]],
    stack_outputs: Callable[[str], dict[str, Any]],
    aws: Callable[[str], Any],
    deployed: Synthesized,
    terraform_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    store, s3 = stack_outputs("artifact-store"), aws("s3")
    candidate, production = store["candidate_model_bucket_name"], store["production_model_bucket_name"]
    manifests = {
        (model, version): publish_candidate(s3, candidate, model, version)
        for model, version in (("churn", "1.0.0"), ("churn", "1.1.0"), ("fraud", "2.0.0"), ("churn", "1.2.0"))
    }
    synth_dir = next(Path(tmp_path_factory.getbasetemp()).glob("promotion-synth*"))

    def serves(model: str, version: str, *, earlier: tuple[str, ...] = ()) -> dict[str, Any]:
        """Production's pointer names `version`; it and every earlier version hold the candidate's bytes."""
        pointer = parse_pointer(s3.get_object(Bucket=production, Key=pointer_key(model))["Body"].read(), model)
        assert pointer.version == version
        for each in (version, *earlier):
            expected = manifests[(model, each)]["artifact"]["sha256"]
            body = s3.get_object(Bucket=production, Key=artifact_key(model, each))["Body"].read()
            assert hashlib.sha256(body).hexdigest() == expected
            head = s3.head_object(Bucket=production, Key=artifact_key(model, each), ChecksumMode="ENABLED")
            assert base64.b64decode(head["ChecksumSHA256"]).hex() == expected  # S3's own SHA256 of the copy
            assert head["SSEKMSKeyId"] == store["production_model_key_arn"]
        assert pointer.sha256 == manifests[(model, version)]["artifact"]["sha256"]
        return pointer.document

    def no_drift() -> None:
        plan = terraform(
            ["plan", "-detailed-exitcode", "-no-color"], synth_dir / "stacks" / "local-artifact-store", terraform_env
        )
        assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr

    promoted = promotion_run("promote", "churn", "1.0.0", "--reason", "first churn model")
    assert "verified churn 1.0.0 in local production" in promoted.stdout
    first = serves("churn", "1.0.0")
    assert (first["promotion"]["sequence"], first["promotion"]["reason"]) == (1, "first churn model")
    no_drift()

    promotion_run("promote", "churn", "1.1.0", "--reason", "better recall")
    serves("churn", "1.1.0", earlier=("1.0.0",))
    tags = s3.get_object_tagging(Bucket=production, Key=artifact_key("churn", "1.1.0"))["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags}.keys() >= {"environment", "model", "version", "approver", "git-sha"}
    no_drift()

    rolled = promotion_run("rollback", "churn", "--apply", "--reason", "1.1.0 misroutes churners")
    assert "churn: production 1.1.0 -> 1.0.0" in rolled.stdout
    assert "0 to create, 1 to update, 0 to destroy" in rolled.stdout  # only the pointer moves
    assert serves("churn", "1.0.0", earlier=("1.1.0",))["promotion"]["action"] == "rollback"
    no_drift()

    churn_pointer = s3.head_object(Bucket=production, Key=pointer_key("churn"))
    promotion_run("stage", "fraud", "2.0.0", "--reason", "fraud model goes live")
    planned = promotion_run("plan", "--model", "fraud")
    changed = [line.split()[2] for line in planned.stdout.splitlines() if line.strip().startswith(("+", "~", "-"))]
    assert len(changed) == 2 and all("production-fraud" in address for address in changed), planned.stdout
    saved_plan = synth_dir / "stacks" / "local-artifact-store" / "promotion.tfplan"
    uploaded = saved_plan.read_bytes()  # what a workflow re-run downloads again
    promotion_run("apply")
    promotion_run("verify", "fraud")
    # A re-run of the promote job after its apply (a failed record push): Terraform calls the plan stale; with
    # --model it counts as applied because production already shows the promotion. Without, it stays an error.
    saved_plan.write_bytes(uploaded)
    assert "Saved plan is stale" in promotion_run("apply", fails=True).stdout
    saved_plan.write_bytes(uploaded)
    assert (
        "already applied: production matches the record for fraud" in promotion_run("apply", "--model", "fraud").stdout
    )
    assert not saved_plan.exists()
    serves("fraud", "2.0.0")
    assert s3.head_object(Bucket=production, Key=pointer_key("churn"))["VersionId"] == churn_pointer["VersionId"]
    serves("churn", "1.0.0", earlier=("1.1.0",))
    no_drift()

    # A candidate overwritten after its check is never copied: S3 refuses the copy (copy_if_match) and
    # production keeps serving what it served; the entry is discarded and nothing is left to apply.
    promotion_run("stage", "churn", "1.2.0", "--reason", "retrained")
    with pytest.raises(RuntimeError, match=r"not serve yet \(promote churn 1\.2\.0\)"):
        check_promotions_current(deployed.config)  # a deploy does not promote it behind promotion's back
    s3.put_object(Bucket=candidate, Key=artifact_key("churn", "1.2.0"), Body=b"swapped after the check")
    promotion_run("plan", "--model", "churn")
    failed = promotion_run("apply", fails=True)
    assert "PreconditionFailed" in failed.stdout + failed.stderr
    assert not [o for o in s3.list_objects_v2(Bucket=production, Prefix="models/churn/1.2.0/").get("Contents", [])]
    serves("churn", "1.0.0", earlier=("1.1.0",))
    promotion_run("discard", "churn")
    assert "local-artifact-store: no changes" in promotion_run("plan", "--model", "churn").stdout

    history = promotion_run("history", "churn").stdout
    assert [line.split()[2] for line in history.splitlines() if line.strip()[:1].isdigit()] == [
        "promote",
        "promote",
        "rollback",
    ]

    # A deploy from a checkout whose record predates the rollback is refused before Terraform runs.
    record_file = deployed.config.local_state_dir / LOCAL_RECORD_FILE  # type: ignore[operator]
    current = record_file.read_text()
    stale = json.loads(current)
    stale["models"]["churn"] = stale["models"]["churn"][:2]
    record_file.write_text(json.dumps(stale))
    try:
        with pytest.raises(RuntimeError, match=r"production serves churn 1\.0\.0 \(promotion 3 of churn\)"):
            check_promotions_current(deployed.config)
    finally:
        record_file.write_text(current)
    check_promotions_current(deployed.config)
