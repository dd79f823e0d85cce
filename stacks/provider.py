"""The AWS provider of one environment: default tags everywhere, emulator endpoints for local."""

from __future__ import annotations

from constructs import Construct

from building_blocks.provider_modules import install_lightweight_provider_package
from platform_config import EnvironmentConfig

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.provider import (  # noqa: E402
    AwsProvider,
    AwsProviderDefaultTags,
    AwsProviderEndpoints,
)

# Every service the platform uses; `local` points each of them at the emulator so that no
# request of a local deploy can reach a real AWS account.
EMULATED_SERVICES = (
    "cloudwatch",
    "cloudwatchlogs",
    "codeartifact",
    "ec2",
    "eventbridge",
    "iam",
    "kms",
    "lambda_",
    "s3",
    "scheduler",
    "sagemaker",
    "sfn",
    "sns",
    "sqs",
    "ssm",
    "sts",
    "xray",
)


def aws_provider(scope: Construct, config: EnvironmentConfig) -> AwsProvider:
    """Configure the provider for `config`.

    local: the emulator's fixed dummy credentials are set here, so `cdktf deploy` works from a plain
    shell and a developer's real credentials can never be sent anywhere; path-style S3, no credential
    or region validation, few retries (the emulator answers at once or not at all), every service
    endpoint on the emulator. dev/prod: credentials from the usual chain (SSO, OIDC in CI), and
    `allowed_account_ids` refuses to run against any other account when set.
    """
    common = dict(region=config.region, default_tags=[AwsProviderDefaultTags(tags=config.default_tags())])
    if not config.is_local:
        return AwsProvider(scope, "aws", allowed_account_ids=list(config.allowed_account_ids) or None, **common)
    url = config.emulator_url
    return AwsProvider(
        scope,
        "aws",
        access_key=config.emulator_credentials.access_key_id,
        secret_key=config.emulator_credentials.secret_access_key,
        s3_use_path_style=True,
        skip_credentials_validation=True,
        skip_metadata_api_check="true",
        skip_region_validation=True,
        skip_requesting_account_id=False,
        max_retries=2,
        endpoints=[AwsProviderEndpoints(**{service: url for service in EMULATED_SERVICES})],
        **common,
    )
