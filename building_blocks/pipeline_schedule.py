"""What starts a SageMaker pipeline on a schedule: EventBridge Scheduler, or an EventBridge rule.

Both forms pass the same pipeline parameters, retry a failed start, and send what they could not
deliver to a KMS-encrypted dead-letter queue. Their role may only `sagemaker:StartPipelineExecution`
on that one pipeline, and trusts only its service in this account.

    scheduler         aws_scheduler_schedule: cron in a time zone, a flexible window, the target
                      input encrypted with the key; the role also sends the dead letters.
    eventbridge-rule  the seed's form: aws_cloudwatch_event_rule (cron in UTC) + a target with a
                      sagemaker_pipeline_target; EventBridge itself sends the dead letters, so the
                      queue policy and the key allow events.amazonaws.com for this rule only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.dead_letter_queue import dead_letter_queue
from building_blocks.iam import ServiceRole, Statement, policy_document
from building_blocks.kms_key import KmsKey
from building_blocks.provider_modules import install_lightweight_provider_package
from building_blocks.sagemaker_pipeline import SageMakerPipeline
from platform_config.model import TRIGGERS

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule  # noqa: E402
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (  # noqa: E402
    CloudwatchEventTarget,
    CloudwatchEventTargetDeadLetterConfig,
    CloudwatchEventTargetRetryPolicy,
    CloudwatchEventTargetSagemakerPipelineTarget,
    CloudwatchEventTargetSagemakerPipelineTargetPipelineParameterListStruct,
)
from cdktf_cdktf_provider_aws.scheduler_schedule import (  # noqa: E402
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetDeadLetterConfig,
    SchedulerScheduleTargetRetryPolicy,
    SchedulerScheduleTargetSagemakerPipelineParameters,
    SchedulerScheduleTargetSagemakerPipelineParametersPipelineParameter,
)
from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy  # noqa: E402

SCHEDULER, EVENTBRIDGE_RULE = TRIGGERS
SCHEDULER_SERVICE = perms.SCHEDULER_SERVICE
EVENTS_SERVICE = perms.EVENTS_SERVICE
DEFAULT_SCHEDULE_GROUP = "default"


@dataclass(frozen=True)
class PipelineScheduleProps:
    """name: the schedule or rule (and role, queue) name. parameters: pipeline parameters each start
    passes (at least one: SageMaker rejects an empty list). expression: cron(...)/rate(...), checked by
    the config. timezone and flexible_window_minutes: scheduler only. enabled: False deploys it off.
    retry_attempts / max_event_age_minutes: how long a failed start is retried before it is dead-lettered.
    key: encrypts the dead letters (and the scheduler's target input). trigger: SCHEDULER or EVENTBRIDGE_RULE.
    """

    name: str
    pipeline: SageMakerPipeline
    parameters: Mapping[str, str]
    expression: str
    key: KmsKey
    trigger: str = SCHEDULER
    timezone: str = "UTC"
    enabled: bool = True
    flexible_window_minutes: int = 0
    retry_attempts: int = 3
    max_event_age_minutes: int = 360
    description: str = ""

    def __post_init__(self) -> None:
        if not self.parameters:
            raise ValueError(f"schedule {self.name}: pass at least one pipeline parameter (AWS rejects none)")
        if self.trigger not in (SCHEDULER, EVENTBRIDGE_RULE):
            raise ValueError(f"schedule {self.name}: trigger {self.trigger!r} is not {SCHEDULER} or {EVENTBRIDGE_RULE}")
        if self.trigger == EVENTBRIDGE_RULE and (self.timezone != "UTC" or self.flexible_window_minutes):
            raise ValueError(f"schedule {self.name}: an EventBridge rule has no time zone and no flexible window")


class PipelineSchedule(Construct):
    """Starts `props.pipeline` on `props.expression` with `props.parameters`."""

    def __init__(self, scope: Construct, construct_id: str, props: PipelineScheduleProps) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self._account = AccountContext.of(self)
        self.dead_letter_queue = dead_letter_queue(
            self, "dead-letters", name=f"{props.name}-dead-letters", key=props.key
        )
        service = SCHEDULER_SERVICE if props.trigger == SCHEDULER else EVENTS_SERVICE
        self.role = ServiceRole(
            self, "role", role_name=props.name, service=service, source_account=self._account.account_id
        )
        props.pipeline.grant_start_execution(self.role, "start-pipeline")
        self.schedule: SchedulerSchedule | None = None
        self.rule: CloudwatchEventRule | None = None
        if props.trigger == SCHEDULER:
            self._scheduler()
        else:
            self._rule()

    @property
    def max_event_age_seconds(self) -> int:
        return self.props.max_event_age_minutes * 60

    def _scheduler(self) -> None:
        props = self.props
        # Scheduler delivers dead letters and decrypts its target input as the role.
        self.role.add_policy(
            "dead-letters",
            [
                Statement(
                    sid="SendDeadLetters", actions=perms.QUEUE_SEND_ACTIONS, resources=(self.dead_letter_queue.arn,)
                ),
                props.key.encrypt_decrypt_statement(),
            ],
        )
        window = (
            SchedulerScheduleFlexibleTimeWindow(
                mode="FLEXIBLE", maximum_window_in_minutes=props.flexible_window_minutes
            )
            if props.flexible_window_minutes
            else SchedulerScheduleFlexibleTimeWindow(mode="OFF")
        )
        self.schedule = SchedulerSchedule(
            self,
            "schedule",
            name=props.name,
            group_name=DEFAULT_SCHEDULE_GROUP,
            description=props.description or None,
            schedule_expression=props.expression,
            schedule_expression_timezone=props.timezone,
            state="ENABLED" if props.enabled else "DISABLED",
            flexible_time_window=window,
            kms_key_arn=props.key.arn,
            target=SchedulerScheduleTarget(
                arn=props.pipeline.arn,
                role_arn=self.role.arn,
                dead_letter_config=SchedulerScheduleTargetDeadLetterConfig(arn=self.dead_letter_queue.arn),
                retry_policy=SchedulerScheduleTargetRetryPolicy(
                    maximum_event_age_in_seconds=self.max_event_age_seconds,
                    maximum_retry_attempts=props.retry_attempts,
                ),
                sagemaker_pipeline_parameters=SchedulerScheduleTargetSagemakerPipelineParameters(
                    pipeline_parameter=[
                        SchedulerScheduleTargetSagemakerPipelineParametersPipelineParameter(name=name, value=value)
                        for name, value in props.parameters.items()
                    ]
                ),
            ),
            depends_on=self.role.dependables(),
        )

    def _rule(self) -> None:
        props = self.props
        self.rule = CloudwatchEventRule(
            self,
            "rule",
            name=props.name,
            description=props.description or None,
            schedule_expression=props.expression,
            state="ENABLED" if props.enabled else "DISABLED",
        )
        from_this_rule = {"ArnEquals": {"aws:SourceArn": self.rule.arn}}
        # EventBridge sends a rule's dead letters as itself, not as the target's role.
        SqsQueuePolicy(
            self,
            "dead-letters-policy",
            queue_url=self.dead_letter_queue.url,
            policy=policy_document(
                [
                    Statement(
                        sid="RuleSendsDeadLetters",
                        actions=perms.QUEUE_SEND_ACTIONS,
                        resources=(self.dead_letter_queue.arn,),
                        principals={"Service": (EVENTS_SERVICE,)},
                        conditions=from_this_rule,
                    )
                ]
            ),
        )
        props.key.allow_service(
            "EventBridgeRule" + "".join(part.title() for part in props.name.split("-")),
            EVENTS_SERVICE,
            perms.KEY_MESSAGE_SEND_ACTIONS,
            conditions=from_this_rule,
        )
        CloudwatchEventTarget(
            self,
            "target",
            rule=self.rule.name,
            target_id="sagemaker-pipeline",
            arn=props.pipeline.arn,
            role_arn=self.role.arn,
            sagemaker_pipeline_target=CloudwatchEventTargetSagemakerPipelineTarget(
                pipeline_parameter_list=[
                    CloudwatchEventTargetSagemakerPipelineTargetPipelineParameterListStruct(name=name, value=value)
                    for name, value in props.parameters.items()
                ]
            ),
            dead_letter_config=CloudwatchEventTargetDeadLetterConfig(arn=self.dead_letter_queue.arn),
            retry_policy=CloudwatchEventTargetRetryPolicy(
                maximum_event_age_in_seconds=self.max_event_age_seconds,
                maximum_retry_attempts=props.retry_attempts,
            ),
            depends_on=self.role.dependables(),
        )
