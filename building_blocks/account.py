"""The account, partition and region a stack deploys to, as Terraform references.

Resolved by data sources at plan time (CDK's `Stack.of(this).account`), so nothing here
hard-codes an account id or the `aws` partition.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformStack
from constructs import Construct

from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity  # noqa: E402
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition  # noqa: E402
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion  # noqa: E402

# One context per stack; keyed by the stack object, which the cache keeps alive.
_CONTEXTS: dict[TerraformStack, AccountContext] = {}


@dataclass(frozen=True)
class AccountContext:
    """Tokens for the deploying account id, partition and region."""

    account_id: str
    partition: str
    region: str

    @staticmethod
    def of(scope: Construct) -> AccountContext:
        """The context of the stack that contains `scope` (data sources made once per stack)."""
        stack = TerraformStack.of(scope)
        if stack not in _CONTEXTS:
            identity = DataAwsCallerIdentity(stack, "account")
            partition = DataAwsPartition(stack, "partition")
            region = DataAwsRegion(stack, "region")
            _CONTEXTS[stack] = AccountContext(
                account_id=identity.account_id,
                partition=partition.partition,
                region=region.name,
            )
        return _CONTEXTS[stack]

    def root_arn(self) -> str:
        """The account principal (`arn:<partition>:iam::<account>:root`)."""
        return f"arn:{self.partition}:iam::{self.account_id}:root"
