"""A SageMaker pipeline with its own execution role, the definition inline.

The role starts with what every pipeline needs and nothing else:
- run the jobs of its steps: create/describe/stop processing and training jobs named `pipelines-*`
  (the names SageMaker gives pipeline jobs), and tag them;
- pass itself to those jobs, and only to SageMaker (`iam:PassedToService`);
- write the jobs' logs to /aws/sagemaker/ProcessingJobs and /aws/sagemaker/TrainingJobs;
- let SageMaker encrypt the jobs' volumes with `volume_key` (a grant for an AWS resource only).
Data access comes from the buckets' grants (`bucket.grant_read(pipeline, ...)`): the pipeline is a
Grantee. The definition is inline (`pipeline_definition`): `pipeline_definition_s3_location` has a
provider bug, and inline keeps plan output showing what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.iam import Grant, Grantee, ServiceRole, Statement
from building_blocks.kms_key import KmsKey
from building_blocks.pipeline_definition import PipelineDefinition
from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.sagemaker_pipeline import SagemakerPipeline as _PipelineResource  # noqa: E402

SAGEMAKER_SERVICE = perms.SAGEMAKER_SERVICE
JOB_LOG_GROUPS = ("/aws/sagemaker/ProcessingJobs", "/aws/sagemaker/TrainingJobs")


@dataclass(frozen=True)
class SageMakerPipelineProps:
    """pipeline_name: also the role's name. definition: built from the role's ARN (the steps run as it).
    volume_key: encrypts the jobs' ML storage volumes. description: shown in SageMaker Studio."""

    pipeline_name: str
    definition: Callable[[str], PipelineDefinition]
    volume_key: KmsKey
    description: str = ""


class SageMakerPipeline(Construct):
    """`aws_sagemaker_pipeline` + its execution role; a Grantee for data grants."""

    def __init__(self, scope: Construct, construct_id: str, props: SageMakerPipelineProps) -> None:
        super().__init__(scope, construct_id)
        account = AccountContext.of(self)
        # SageMaker sends aws:SourceAccount for pipelines, processing and training jobs (SageMaker
        # Developer Guide, "Cross-service confused deputy prevention"): no other account's jobs use the role.
        self.role = ServiceRole(
            self, "role", role_name=props.pipeline_name, service=SAGEMAKER_SERVICE, source_account=account.account_id
        )
        jobs = f"arn:{account.partition}:sagemaker:{account.region}:{account.account_id}"
        self.role.add_policy(
            "run-pipeline-jobs",
            [
                Statement(
                    sid="RunPipelineJobs",
                    actions=perms.PIPELINE_JOB_ACTIONS,
                    resources=(f"{jobs}:processing-job/pipelines-*", f"{jobs}:training-job/pipelines-*"),
                ),
                Statement(
                    sid="PassRoleToSageMakerJobs",
                    actions=perms.PASS_ROLE_ACTIONS,
                    resources=(self.role.arn,),
                    conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
                ),
            ],
        )
        logs = f"arn:{account.partition}:logs:{account.region}:{account.account_id}:log-group"
        self.role.add_policy(
            "job-logs",
            [
                Statement(
                    sid="WriteJobLogs",
                    actions=perms.JOB_LOG_ACTIONS,
                    resources=tuple(
                        resource for group in JOB_LOG_GROUPS for resource in (f"{logs}:{group}", f"{logs}:{group}:*")
                    ),
                )
            ],
        )
        self.role.add_policy(
            "encrypt-job-volumes",
            [
                Statement(
                    sid="GrantForJobVolumes",
                    actions=perms.KEY_GRANT_ACTIONS,
                    resources=(props.volume_key.arn,),
                    conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
                ),
                props.volume_key.encrypt_decrypt_statement(),
            ],
        )
        self.definition = props.definition(self.role.arn)
        self.pipeline = _PipelineResource(
            self,
            "pipeline",
            pipeline_name=props.pipeline_name,
            pipeline_display_name=props.pipeline_name,
            pipeline_description=props.description or None,
            role_arn=self.role.arn,
            pipeline_definition=self.definition.to_json(),
            depends_on=self.role.dependables(),
        )

    @property
    def arn(self) -> str:
        return self.pipeline.arn

    @property
    def name(self) -> str:
        return self.pipeline.pipeline_name

    def add_policy(self, name: str, statements: Sequence[Statement]) -> Grant:
        """Grantee: data grants go to the pipeline's role."""
        return self.role.add_policy(name, statements)

    def start_statement(self) -> Statement:
        """Start executions of this pipeline, nothing else."""
        return Statement(sid="StartPipelineExecution", actions=perms.PIPELINE_START_ACTIONS, resources=(self.arn,))

    def grant_start_execution(self, grantee: Grantee, name: str) -> Grant:
        """Let `grantee` start executions of this pipeline (a schedule's or a CI role)."""
        return grantee.add_policy(name, [self.start_statement()])
