"""Versions are never overwritten: check that a model version is not published yet, before anything is written.

`--published-models-uri s3://<candidate bucket>/models` (prepare.py and publish.py; absent = no check, for local
runs) names where versions live, as `<uri>/<name>/<version>/`. boto3 is imported only here and only when the check
runs (the SageMaker image has it); credentials and endpoint come from boto3's standard chain (the job's role in
SageMaker; AWS_ENDPOINT_URL and dummy keys with the local emulator).
"""

from __future__ import annotations


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/models/` -> ("bucket", "models"); ValueError for anything else."""
    bucket, _, prefix = uri[len("s3://") :].partition("/") if uri.startswith("s3://") else ("", "", "")
    if not bucket or not prefix.strip("/"):
        raise ValueError(f"--published-models-uri {uri!r} is not an S3 prefix: s3://<bucket>/<prefix>")
    return bucket, prefix.strip("/")


def check_version_unpublished(published_models_uri: str, name: str, version: str) -> None:
    """ValueError when `<published_models_uri>/<name>/<version>/` holds any object (ListObjectsV2, MaxKeys 1);
    OSError when S3 cannot be asked (AccessDenied, no such bucket, no credentials, endpoint down)."""
    bucket, prefix = split_s3_uri(published_models_uri)
    key_prefix = f"{prefix}/{name}/{version}/"
    location = f"s3://{bucket}/{key_prefix}"
    import boto3  # only here: model_format and model_archive stay standard library only
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        listing = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=key_prefix, MaxKeys=1)
    except (BotoCoreError, ClientError) as exc:
        raise OSError(f"cannot check whether model {name} version {version} exists at {location}: {exc}") from exc
    if listing.get("KeyCount", 0) or listing.get("Contents"):
        raise ValueError(
            f"model {name} version {version} already exists at {location}; "
            "versions are never overwritten: pass a new ModelVersion"
        )
