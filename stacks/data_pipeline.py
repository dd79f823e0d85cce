"""Data pipeline: raw uploads are validated by a Lambda into clean data and a quarantine.

    raw bucket        <prefix>-raw-data        uploads land under incoming/<dataset>/
    processed bucket  <prefix>-processed-data  processed/<dataset>/dt=<date>/… and quarantine/…
    processor         <prefix>-data-processor  runs on every s3:ObjectCreated:* under incoming/
    backfill          <prefix>-data-backfill   Distributed Map: the processor for every object under a prefix

The processor's role reads only incoming/ of the raw bucket; in the processed bucket it writes and
deletes (superseded versions' outputs) only under processed/ and quarantine/, and reads and writes
index/ (each raw object's current-version pointer), with those buckets' keys. The dataset schemas
it checks rows against come from platform_config/datasets.toml, bundled into its zip at synth.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from building_blocks.lambda_function import LambdaFunction, LambdaFunctionProps
from building_blocks.policy_guard import PolicyGuard
from building_blocks.s3_prefix_fan_out import S3PrefixFanOut, S3PrefixFanOutProps
from platform_config import EnvironmentConfig
from platform_config.datasets import DatasetSchema, schemas_json
from stacks.base import PlatformStack

INCOMING_PREFIX = "incoming/"
PROCESSED_PREFIX = "processed/"
QUARANTINE_PREFIX = "quarantine/"
INDEX_PREFIX = "index/"


class DataPipelineStack(PlatformStack):
    """The raw and processed buckets, the processor Lambda and the backfill state machine."""

    def __init__(
        self, scope: Construct, *, config: EnvironmentConfig, guard: PolicyGuard, datasets: dict[str, DatasetSchema]
    ) -> None:
        super().__init__(scope, "data-pipeline", config=config, guard=guard)
        settings = config.data_pipeline
        self.access_logs = self.add_access_log_bucket("data-access-logs")
        self.raw = self.add_bucket("raw-data", self.access_logs)
        self.processed = self.add_bucket("processed-data", self.access_logs)
        # Encrypts what the functions and the state machine own: environment, logs, dead letters.
        self.key = self.add_key(
            "pipeline-key", "data-pipeline", "Encrypts the data pipeline's logs, environment and dead letters"
        )

        self.processor = LambdaFunction(
            self,
            "processor",
            LambdaFunctionProps(
                function_name=config.resource_name("data-processor"),
                package="data_processor",
                handler="data_processor.handler.handler",
                encryption_key=self.key,
                log_retention_days=config.log_retention_days,
                reserved_concurrency=settings.processor_reserved_concurrency,
                memory_mb=settings.processor_memory_mb,
                timeout_seconds=settings.processor_timeout_seconds,
                environment={"PROCESSED_BUCKET": config.resource_name("processed-data")},
                extra_files={"data_processor/schemas.json": schemas_json(datasets)},
            ),
        )
        self.raw.grant_read(self.processor, "read-incoming", INCOMING_PREFIX)
        self.processed.grant_write(self.processor, "write-processed", PROCESSED_PREFIX)
        self.processed.grant_write(self.processor, "write-quarantine", QUARANTINE_PREFIX)
        self.processed.grant_delete(self.processor, "delete-processed", PROCESSED_PREFIX)
        self.processed.grant_delete(self.processor, "delete-quarantine", QUARANTINE_PREFIX)
        self.processed.grant_read(self.processor, "read-index", INDEX_PREFIX)
        self.processed.grant_write(self.processor, "write-index", INDEX_PREFIX)
        self.raw.notify_function(self.processor, prefix=INCOMING_PREFIX)

        self.backfill = S3PrefixFanOut(
            self,
            "backfill",
            S3PrefixFanOutProps(
                state_machine_name=config.resource_name("data-backfill"),
                bucket=self.raw,
                function=self.processor,
                allowed_prefix=INCOMING_PREFIX,
                max_concurrency=settings.backfill_max_concurrency,
                tolerated_failure_percentage=settings.backfill_tolerated_failure_percentage,
                encryption_key=self.key,
                log_retention_days=config.log_retention_days,
            ),
        )

        outputs = {
            "raw_data_bucket_name": self.raw.bucket.bucket,
            "processed_data_bucket_name": self.processed.bucket.bucket,
            "data_processor_function_name": self.processor.function_name,
            "data_processor_dead_letter_queue_url": self.processor.dead_letter_queue.url,
            "backfill_state_machine_arn": self.backfill.arn,
        }
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)
