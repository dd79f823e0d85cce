"""Model artifact store: where training publishes models and where serving reads them.

    candidate bucket   <name_prefix>-candidate-models    training writes models/<name>/<version>/
    production bucket  <name_prefix>-production-models   serving reads; written only by promotion
    access-log bucket  <name_prefix>-artifact-access-logs  server access logs of both

Each model bucket has its own KMS key, so read access to production data is a grant on the
production key and nothing else. Promotion (candidate -> production, approved in a GitHub
environment) is built on `grant_promotion` below by the promotion stack.
"""

from __future__ import annotations

import re

from cdktf import TerraformOutput
from constructs import Construct

from building_blocks.iam import Grant, Grantee
from building_blocks.policy_guard import PolicyGuard
from platform_config import EnvironmentConfig
from stacks.base import PlatformStack

MODELS_PREFIX = "models/"
_MODEL_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def model_prefix(model_name: str, version: str) -> str:
    """The key prefix of one model version: `models/<name>/<version>/`.

    Versions are part of the key, never overwritten in place, so a promotion copy is
    redone exactly when a new version appears.
    """
    for label, value in (("model name", model_name), ("model version", version)):
        if not _MODEL_PART.match(value) or ".." in value:
            raise ValueError(f"{label} {value!r} must be 1-128 letters, digits, '.', '_' or '-'")
    return f"{MODELS_PREFIX}{model_name}/{version}/"


class ArtifactStoreStack(PlatformStack):
    """The candidate and production model buckets of one environment."""

    def __init__(self, scope: Construct, *, config: EnvironmentConfig, guard: PolicyGuard) -> None:
        super().__init__(scope, "artifact-store", config=config, guard=guard)
        self.access_logs = self.add_access_log_bucket("artifact-access-logs")
        self.candidate = self.add_bucket("candidate-models", self.access_logs)
        self.production = self.add_bucket("production-models", self.access_logs)

        for label, bucket in (
            ("candidate_model", self.candidate),
            ("production_model", self.production),
            ("access_log", self.access_logs),
        ):
            TerraformOutput(
                self,
                f"{label}_bucket_name",
                value=bucket.bucket.bucket,
                description=f"Name of the {label.replace('_', ' ')} bucket",
            )
            TerraformOutput(self, f"{label}_bucket_arn", value=bucket.arn)
        for label, bucket in (("candidate_model", self.candidate), ("production_model", self.production)):
            assert bucket.encryption_key is not None
            TerraformOutput(
                self,
                f"{label}_key_arn",
                value=bucket.encryption_key.arn,
                description=f"KMS key that encrypts the {label.replace('_', ' ')} bucket",
            )

    # -- grants used by the stacks that build on this one ---------------------------------

    def grant_publish_candidate(self, grantee: Grantee) -> Grant:
        """Training: write new model versions under models/ of the candidate bucket."""
        return self.candidate.grant_write(grantee, "publish-candidate-models", MODELS_PREFIX)

    def grant_read_production(self, grantee: Grantee) -> Grant:
        """Serving: read promoted models from the production bucket."""
        return self.production.grant_read(grantee, "read-production-models", MODELS_PREFIX)

    def grant_promotion(self, grantee: Grantee) -> tuple[Grant, Grant]:
        """Promotion: read candidates and write the production copy, nothing else."""
        return (
            self.candidate.grant_read(grantee, "read-candidate-models", MODELS_PREFIX),
            self.production.grant_write(grantee, "write-production-models", MODELS_PREFIX),
        )
