"""Promotion CLI tests: `python -m promotion` (its main()) against the session's in-process emulator, with the local
environment's two model buckets created directly (no Terraform: these tests are about the checks).
Each test gets empty buckets and its own local state directory, so its own promotion record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

import platform_config
from emulator import EmulatorServer
from promotion import cli
from promotion.record import LOCAL_RECORD_FILE


@dataclass
class Store:
    s3: Any
    candidate: str
    production: str
    record: Path

    def record_bytes(self) -> bytes | None:
        return self.record.read_bytes() if self.record.exists() else None


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture
def store(emulator_server: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Empty candidate and production buckets of `local`, and the shell a user would have (ENV=local)."""
    for name in [name for name in list(__import__("os").environ) if name.startswith("GITHUB_")] + ["YES"]:
        monkeypatch.delenv(name, raising=False)
    state = tmp_path / "state"
    monkeypatch.setenv("ENV", "local")
    monkeypatch.setenv("EMULATOR_PORT", str(emulator_server.port))
    monkeypatch.setenv("LOCAL_STATE_DIR", str(state))
    config = platform_config.load("local")
    s3 = boto3.client(
        "s3",
        endpoint_url=emulator_server.url,
        region_name=config.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    buckets = [config.resource_name("candidate-models"), config.resource_name("production-models")]
    for bucket in buckets:
        existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        if bucket in existing:
            versions = s3.list_object_versions(Bucket=bucket)
            for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
        else:
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return Store(s3, buckets[0], buckets[1], state / LOCAL_RECORD_FILE)


@pytest.fixture
def promotion_cli(store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Callable[..., Outcome]:
    """`promotion_cli("check", "churn", "1.0.0")` -> exit code, stdout, stderr of `python -m promotion ...`."""

    def run(*args: str) -> Outcome:
        capsys.readouterr()
        try:
            code = cli.main(["--outdir", str(tmp_path / "cdktf.out"), *args])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
