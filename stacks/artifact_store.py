"""Model artifact store: where training publishes models and where serving reads them.

    candidate bucket   <name_prefix>-candidate-models    training writes models/<name>/<version>/
    production bucket  <name_prefix>-production-models   serving reads; written only by promotion
    access-log bucket  <name_prefix>-artifact-access-logs  server access logs of both

Each model bucket has its own KMS key, so read access to production data is a grant on the
production key and nothing else.

What production holds comes from the environment's promotion record (promotion/record.py): for each
promoted model, a copy of every version ever promoted and the production pointer serving reads
(building_blocks/production_model.py). Promoting is therefore a reviewed change to that record plus an
apply of this stack (`make promote`, .github/workflows/promote-model.yml).
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from building_blocks.iam import Grant, Grantee
from building_blocks.policy_guard import PolicyGuard
from building_blocks.production_model import ProductionModel, check_tag_budget
from platform_config import EnvironmentConfig
from promotion import record as promotion_record
from promotion.record import PromotionRecord
from stacks.base import PlatformStack
from training.model_naming import AUTO, check_model_name, check_model_version

MODELS_PREFIX = "models/"


def model_prefix(model_name: str, version: str) -> str:
    """The key prefix of one model version: `models/<name>/<version>/`.

    Names and versions follow the model artifact contract (training/model_naming.py, which the
    pipeline's scripts check too): a name matches ^[a-z][a-z0-9-]{1,62}$, a version is semver.
    Versions are part of the key, never overwritten in place, so a promotion copy is redone
    exactly when a new version appears.
    """
    check_model_name(model_name)
    if version == AUTO:
        raise ValueError(f"model version {version!r} is invalid: a published version is a semantic version")
    check_model_version(version)
    return f"{MODELS_PREFIX}{model_name}/{version}/"


class ArtifactStoreStack(PlatformStack):
    """The candidate and production model buckets of one environment, and what production serves.

    Args:
        promotions: the promotion record to deploy; default the environment's own file
            (`promotion.record.record_path`).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        config: EnvironmentConfig,
        guard: PolicyGuard,
        promotions: PromotionRecord | None = None,
    ) -> None:
        super().__init__(scope, "artifact-store", config=config, guard=guard)
        self.access_logs = self.add_access_log_bucket("artifact-access-logs")
        self.candidate = self.add_bucket("candidate-models", self.access_logs)
        self.production = self.add_bucket("production-models", self.access_logs)
        if promotions is None:
            path = promotion_record.record_path(config.name, config.local_state_dir)
            promotions = promotion_record.load(path, config.name)
        self.promotions = promotions
        if promotions.models:
            check_tag_budget(config.default_tags())
        self.production_models = {
            current.model: ProductionModel(
                self,
                f"production-{current.model}",
                model=current.model,
                record=promotions,
                candidate=self.candidate,
                production=self.production,
                disposable=self.disposable,
            )
            for current in promotions.productions()
        }

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

    def grant_list_candidates(self, grantee: Grantee) -> Grant:
        """Training: list candidate keys under models/ (to refuse publishing a version twice), no reads."""
        return self.candidate.grant_list(grantee, "list-candidate-models", MODELS_PREFIX)

    def grant_read_production(self, grantee: Grantee, model: str | None = None) -> Grant:
        """Serving: read promoted models (their archives and production pointers) from the production bucket;
        with `model`, only that model's `models/<model>/` (default: every model)."""
        prefix = MODELS_PREFIX if model is None else f"{MODELS_PREFIX}{check_model_name(model)}/"
        return self.production.grant_read(grantee, "read-production-models", prefix)

    def grant_promotion(self, grantee: Grantee) -> tuple[Grant, Grant]:
        """Promotion: read candidates and write the production copy, nothing else."""
        return (
            self.candidate.grant_read(grantee, "read-candidate-models", MODELS_PREFIX),
            self.production.grant_write(grantee, "write-production-models", MODELS_PREFIX),
        )
