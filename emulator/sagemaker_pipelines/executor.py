"""One pipeline execution, run step by step on a background thread.

``PipelineRun`` follows the definition as SageMaker Pipelines does, one step at a time:

* a step starts once every step it references (``Get``, ``Std:JsonGet``, ``DependsOn``) has
  succeeded; among ready steps the definition's order decides;
* a failed step fails the execution (``FailureReason`` names the step and its error) and no
  further step starts; a Fail step fails it with its ``ErrorMessage``;
* a Condition step evaluates its ``Conditions`` (all must hold) and makes the steps of
  ``IfSteps`` or ``ElseSteps`` runnable; the other branch never appears among the steps;
* ``stop()`` kills the running job and ends the execution as ``Stopped`` (``record=False``: the
  execution was discarded, e.g. by a moto reset, and nothing more is written).

Every change of the execution's status is reported through ``on_status(status, reason)``.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator.child_process import ProcessGroups
from emulator.sagemaker_pipelines.conditions import ConditionError, all_hold
from emulator.sagemaker_pipelines.definition import PipelineDefinition, StepDefinition
from emulator.sagemaker_pipelines.expressions import Context, UnresolvedReference, walk
from emulator.sagemaker_pipelines.jobs import JobFailed, JobSettings, JobStopped, job_name, trim_reason
from emulator.sagemaker_pipelines.processing import run_processing_job
from emulator.sagemaker_pipelines.s3 import S3Transfer, TransferError
from emulator.sagemaker_pipelines.training import run_training_job

LOGGER = logging.getLogger("emulator.sagemaker")
EXECUTION_REASON_LIMIT = 1300  # DescribePipelineExecution FailureReason's maximum length
_sequence = itertools.count()  # orders steps that start within the same clock tick


def _iso(moment: datetime) -> str:
    """``2026-11-29T20:07:24.123Z``: how the execution's date variables are rendered."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ExecutionInfo:
    """Who this execution is: ``Execution.*`` values and where its jobs' ARNs live."""

    arn: str
    pipeline_name: str
    start_time: datetime

    @property
    def execution_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    def job_arn(self, kind: str, name: str) -> str:
        partition, _, region, account = self.arn.split(":")[1:5]
        return f"arn:{partition}:sagemaker:{region}:{account}:{kind}/{name}"

    def variables(self) -> dict[str, str]:
        return {
            "PipelineExecutionId": self.execution_id,
            "PipelineExecutionArn": self.arn,
            "PipelineName": self.pipeline_name,
            "PipelineArn": self.arn.split("/execution/", 1)[0],
            "StartDateTime": _iso(self.start_time),
            "CurrentDateTime": _iso(datetime.now(UTC)),
        }


@dataclass
class StepRecord:
    """A step as ListPipelineExecutionSteps shows it."""

    definition: StepDefinition
    start_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "Executing"
    end_time: datetime | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    sequence: int = field(default_factory=lambda: next(_sequence))

    def finish(self, status: str, reason: str | None = None) -> None:
        self.status, self.end_time = status, datetime.now(UTC)
        self.failure_reason = None if reason is None else trim_reason(reason)

    def to_api(self) -> dict[str, Any]:
        """A ``PipelineExecutionStep`` (botocore's shape; absent members left out)."""
        item: dict[str, Any] = {
            "StepName": self.definition.name,
            "StartTime": self.start_time,
            "StepStatus": self.status,
            "AttemptCount": 1,
            "Metadata": self.metadata,
        }
        optional = {
            "StepDisplayName": self.definition.display_name,
            "StepDescription": self.definition.description,
            "EndTime": self.end_time,
            "FailureReason": self.failure_reason,
        }
        item.update({key: value for key, value in optional.items() if value is not None})
        return item


class StepFailed(Exception):
    """A step failed; the message is its FailureReason."""


class PipelineRun:
    """The execution of ``definition`` with ``parameters`` (see the module docstring)."""

    def __init__(
        self,
        info: ExecutionInfo,
        definition: PipelineDefinition,
        parameters: Mapping[str, Any],
        transfer: S3Transfer,
        settings: JobSettings,
        on_status: Callable[[str, str | None], None],
    ) -> None:
        self.info = info
        self._definition = definition
        self._parameters = dict(parameters)
        self._transfer = transfer
        self._settings = settings
        self._on_status = on_status
        self._lock = threading.Lock()
        self._records: list[StepRecord] = []
        self._properties: dict[str, dict[str, Any]] = {}
        self._property_files: dict[tuple[str, str], Any] = {}
        self._processes = ProcessGroups()
        self._stopping = threading.Event()
        self._record = True
        self._thread = threading.Thread(target=self._main, daemon=True, name=f"sagemaker-pipeline-{info.execution_id}")
        self.status = "Executing"
        self.failure_reason: str | None = None

    # -- control ------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, record: bool = True) -> None:
        """Kill the running job; the execution ends ``Stopped`` (nothing is written with ``record=False``)."""
        with self._lock:
            self._record = self._record and record
            if self.status == "Executing" and record:
                self._set_status("Stopping", None)
        self._stopping.set()
        self._processes.close()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has ended."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def steps(self) -> list[dict[str, Any]]:
        """The started steps as ``PipelineExecutionStep`` dicts, in start order."""
        with self._lock:
            return [record.to_api() for record in sorted(self._records, key=lambda record: record.sequence)]

    # -- the run ------------------------------------------------------------

    def _set_status(self, status: str, reason: str | None) -> None:
        self.status, self.failure_reason = status, reason
        if self._record:
            self._on_status(status, reason)

    def _main(self) -> None:
        try:
            status, reason = self._run_steps()
        except Exception as exc:  # a bug here must still end the execution, not leave it Executing forever
            LOGGER.exception("pipeline execution %s crashed", self.info.arn)
            status, reason = "Failed", f"the emulator's pipeline executor failed: {exc!r}"
        with self._lock:
            if self._stopping.is_set():
                status, reason = "Stopped", None
            self._set_status(status, None if reason is None else trim_reason(reason, EXECUTION_REASON_LIMIT))
        LOGGER.info("pipeline execution %s: %s%s", self.info.arn, status, f" ({reason})" if reason else "")

    def _run_steps(self) -> tuple[str, str | None]:
        pending = list(self._definition.top_level)
        succeeded: set[str] = set()
        never: set[str] = set()  # steps of branches not taken, and steps waiting on them
        while pending and not self._stopping.is_set():
            step = self._next_ready(pending, succeeded, never)
            if step is None:
                return "Failed", "steps " + ", ".join(s.name for s in pending) + " wait on each other and cannot start"
            pending.remove(step)
            try:
                taken = self._run_step(step)
            except StepFailed as exc:
                if self._stopping.is_set():
                    return "Stopped", None
                if step.type == "Fail":
                    return "Failed", str(exc)
                return "Failed", f"Step failure: {step.name} failed: {exc}"
            succeeded.add(step.name)
            for branch, names in step.branches.items():
                if branch == taken:
                    pending.extend(self._definition.steps[name] for name in names)
                else:
                    never.update(self._with_nested(names))
        return ("Stopped", None) if self._stopping.is_set() else ("Succeeded", None)

    def _with_nested(self, names: tuple[str, ...]) -> set[str]:
        """``names`` and every step nested in their branches (a branch not taken drops them all)."""
        found: set[str] = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name in found or name not in self._definition.steps:
                continue
            found.add(name)
            for children in self._definition.steps[name].branches.values():
                stack.extend(children)
        return found

    def _next_ready(self, pending: list[StepDefinition], succeeded: set[str], never: set[str]) -> StepDefinition | None:
        """The first pending step whose known dependencies all succeeded; drops those that never can."""
        while True:
            for step in pending:
                known = {name for name in step.dependencies if name in self._definition.steps}
                if known <= succeeded:
                    return step
            blocked = [step for step in pending if step.dependencies & never]
            if not blocked:
                return None
            for step in blocked:  # they wait on a branch that was not taken: they never start
                pending.remove(step)
                never.add(step.name)

    def _context(self) -> Context:
        return Context(self._parameters, self.info.variables(), self._properties, self._read_property_file)

    def _read_property_file(self, step_name: str, file_name: str) -> Any:
        if (step_name, file_name) in self._property_files:
            return self._property_files[(step_name, file_name)]
        step = self._definition.steps[step_name]
        declared = next((item for item in step.property_files if item.name == file_name), None)
        if declared is None:
            raise UnresolvedReference(f"step {step_name} declares no property file {file_name}")
        try:
            output = walk(self._properties[step_name], f"ProcessingOutputConfig.Outputs['{declared.output_name}']")
            uri = str(output["S3Output"]["S3Uri"]).rstrip("/") + "/" + declared.file_path.lstrip("/")
            document = self._transfer.read_json(uri)
        except (LookupError, TypeError, TransferError) as exc:
            raise UnresolvedReference(f"property file {file_name} of step {step_name}: {exc}") from exc
        self._property_files[(step_name, file_name)] = document
        return document

    def _run_step(self, step: StepDefinition) -> str | None:
        """Run one step; returns the branch a Condition step took. Raises ``StepFailed``."""
        record = StepRecord(step)
        with self._lock:
            self._records.append(record)
        LOGGER.info("pipeline execution %s: step %s (%s) started", self.info.execution_id, step.name, step.type)
        try:
            unknown = sorted(step.dependencies - set(self._definition.steps))
            if unknown:
                raise UnresolvedReference(f"step {step.name} references unknown step(s) {', '.join(unknown)}")
            taken = self._dispatch(step, record)
        except UnresolvedReference as exc:
            self._finish(record, "Failed", f"Cannot resolve {exc}")
            raise StepFailed(f"Cannot resolve {exc}") from exc
        except (ConditionError, JobFailed, StepFailed) as exc:
            self._finish(record, "Failed", str(exc))
            raise StepFailed(str(exc)) from exc
        except JobStopped as exc:
            self._finish(record, "Stopped", None)
            raise StepFailed(str(exc)) from exc
        self._finish(record, "Succeeded", None)
        return taken

    def _finish(self, record: StepRecord, status: str, reason: str | None) -> None:
        with self._lock:
            record.finish(status, reason)
        LOGGER.info(
            "pipeline execution %s: step %s %s%s",
            self.info.execution_id,
            record.definition.name,
            status,
            f": {reason}" if reason else "",
        )

    def _set_metadata(self, record: StepRecord, metadata: dict[str, Any]) -> None:
        with self._lock:
            record.metadata = metadata

    def _dispatch(self, step: StepDefinition, record: StepRecord) -> str | None:
        context = self._context()
        if step.type == "Condition":
            outcome = all_hold(step.arguments.get("Conditions"), context.resolve)
            self._set_metadata(record, {"Condition": {"Outcome": str(outcome)}})
            self._properties[step.name] = {"Outcome": outcome}
            return "IfSteps" if outcome else "ElseSteps"
        if step.type == "Fail":
            message = str(context.resolve(step.arguments.get("ErrorMessage", "")))
            self._set_metadata(record, {"Fail": {"ErrorMessage": message}})
            raise StepFailed(message)
        if step.type in ("Processing", "Training"):
            self._run_job(step, record, context.resolve(dict(step.arguments)))
            return None
        raise StepFailed(f"the emulator does not run {step.type} steps")

    def _run_job(self, step: StepDefinition, record: StepRecord, job: dict[str, Any]) -> None:
        name = job_name(self.info.execution_id, step.name)
        kind = "processing-job" if step.type == "Processing" else "training-job"
        arn = self.info.job_arn(kind, name)
        prefix = "ProcessingJob" if step.type == "Processing" else "TrainingJob"
        self._set_metadata(record, {prefix: {"Arn": arn}})
        properties = {**job, f"{prefix}Name": name, f"{prefix}Arn": arn}
        if step.type == "Processing":
            run_processing_job(name, job, self._settings, self._transfer, self._processes)
        else:
            artifacts = run_training_job(name, job, self._settings, self._transfer, self._processes)
            properties["ModelArtifacts"] = {"S3ModelArtifacts": artifacts}
        properties[f"{prefix}Status"] = "Completed"
        self._properties[step.name] = properties


__all__ = ["ExecutionInfo", "PipelineRun", "StepRecord"]
