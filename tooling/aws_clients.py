"""boto3 clients for an environment (the local emulator with dummy keys, or the caller's real account), and
the small S3 questions the tooling and the integration tests ask."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from platform_config import EnvironmentConfig


def require_emulator(config: EnvironmentConfig) -> None:
    """For `local`: raise RuntimeError saying how to start the emulator unless it answers."""
    if not config.is_local:
        return
    # Imported here: the emulator package imports moto (a dev package), and a real environment needs only boto3
    # (CI's `python -m tooling.pip_login` runs with boto3 alone, before `make setup`).
    from emulator.health import is_healthy

    if not is_healthy(config.emulator_url):
        raise RuntimeError(f"the local emulator is not answering at {config.emulator_url}; run `make emulator`")


def client(service: str, config: EnvironmentConfig) -> Any:
    """A boto3 client for `service` in `config`'s region: against the emulator for `local` (with its
    dummy credentials, whatever the shell holds), with the usual credential chain otherwise."""
    if config.is_local:
        credentials = config.emulator_credentials
        return boto3.client(
            service,
            endpoint_url=config.emulator_url,
            region_name=config.region,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
        )
    return boto3.client(service, region_name=config.region)


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    """HeadObject: True when `key` exists (its current version is not a delete marker)."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return False
        raise
    return True
