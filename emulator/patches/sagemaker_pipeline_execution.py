"""SageMaker pipeline executions really run their steps.

moto gap: ``moto/sagemaker/models.py`` ``SageMakerModelBackend.start_pipeline_execution`` records an
execution whose ``FakePipelineExecution.pipeline_execution_status`` is ``"Succeeded"`` from the start
and runs nothing; ``describe_pipeline_execution`` always answers ``"FailureReason": ""``,
``list_pipeline_executions`` answers ``"None"`` for it; there is no StopPipelineExecution
(``moto/sagemaker/responses.py`` ``SageMakerResponse`` lacks it: moto raises NotImplementedError).

The patch

* wraps ``start_pipeline_execution``: after moto records the execution, its status is
  ``Executing`` and an ``emulator.sagemaker_pipelines.PipelineRun`` executes the definition the
  execution was started with (``pipeline_definition_for_execution``) on a background thread:
  Processing and (framework-mode) Training jobs run as local subprocesses, S3 through an ordinary
  client of this server (dummy credentials, the execution's region), so bucket policies apply;
  the status becomes ``Succeeded``, ``Failed`` (with a FailureReason) or ``Stopped``. Parameters
  the definition does not declare are a ValidationException, as the start is refused on AWS;
* wraps ``describe_pipeline_execution`` and ``list_pipeline_executions``: the run's
  FailureReason, left out while there is none (AWS omits it);
* adds ``stop_pipeline_execution`` (backend and response): the running job is killed, the
  execution goes ``Stopping`` then ``Stopped``;
* wraps ``reset`` (inherited from ``moto/core/base_backend.py`` ``BaseBackend``): ``/moto-api/reset``
  stops the backend's runs without recording anything (their executions are gone).

Uninstalling stops every run (``Stopped``) and waits up to 5 s for their threads (daemon threads: a job that
ignores SIGKILL cannot hold the process). The run is kept on the execution as
``RUN_ATTRIBUTE``, where ``sagemaker_pipeline_steps`` reads the steps.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.child_process import emulator_access
from emulator.extension import Patch, PatchExtension
from emulator.log_output import LogOutput
from emulator.sagemaker_pipelines import (
    DefinitionError,
    ExecutionInfo,
    JobSettings,
    PipelineDefinition,
    PipelineRun,
    S3Transfer,
    log_to,
)
from emulator.sagemaker_pipelines.s3 import client

# Local stand-ins for the images the platform's pipelines name: an interpreter with the image's Python
# and packages, which `make setup` installs (tools/sagemaker-sklearn/: Python 3.9, scikit-learn 1.2.1).
IMAGE_PYTHONS = {
    "sagemaker-scikit-learn:1.2-1": str(
        Path(__file__).resolve().parents[2] / "tools" / "sagemaker-sklearn" / ".venv" / "bin" / "python"
    ),
}

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

LOGGER = logging.getLogger("emulator.sagemaker")
RUN_ATTRIBUTE = "_emulator_pipeline_run"
SHUTDOWN_WAIT_SECONDS = 5.0


def run_of(execution: Any) -> PipelineRun | None:
    """The ``PipelineRun`` of a moto ``FakePipelineExecution`` (None: started before the patch)."""
    return getattr(execution, RUN_ATTRIBUTE, None)


class SageMakerPipelineExecution(PatchExtension):
    """Run StartPipelineExecution's steps locally; Describe/List show the outcome; Stop stops it."""

    name = "sagemaker-pipeline-execution"

    def __init__(self) -> None:
        super().__init__()
        self._endpoint: str | None = None
        self._runs: list[tuple[Any, PipelineRun]] = []  # (moto backend, run): reset stops the backend's runs
        self._lock = threading.Lock()
        self._log_output = LogOutput(LOGGER, "sagemaker")

    @property
    def runs(self) -> list[PipelineRun]:
        """The runs started while installed (tests wait on them)."""
        with self._lock:
            return [run for _, run in self._runs]

    # -- moto replacements -------------------------------------------------

    def _start(self, original: Callable[..., Any]) -> Callable[..., Any]:
        extension = self

        def start_pipeline_execution(backend: Any, pipeline_name: str, *args: Any, **kwargs: Any) -> Any:
            from moto.sagemaker.exceptions import ValidationError
            from moto.sagemaker.utils import get_pipeline_execution_from_arn, get_pipeline_from_name

            pipeline = get_pipeline_from_name(backend.pipelines, pipeline_name)
            parameters = kwargs.get("pipeline_parameters", args[1] if len(args) > 1 else None)
            try:  # refuse bad parameters before moto records anything, as AWS refuses the start
                definition = PipelineDefinition.parse(pipeline.pipeline_definition)
                values = definition.parameter_values(parameters)
            except DefinitionError as exc:
                raise ValidationError(message=str(exc)) from exc
            response = original(backend, pipeline_name, *args, **kwargs)
            execution = get_pipeline_execution_from_arn(backend.pipelines, response["PipelineExecutionArn"])
            extension._launch(backend, execution, pipeline_name, definition, values)
            return response

        return start_pipeline_execution

    def _launch(
        self, backend: Any, execution: Any, pipeline_name: str, definition: PipelineDefinition, values: dict[str, Any]
    ) -> None:
        def on_status(status: str, reason: str | None) -> None:
            execution.pipeline_execution_status = status
            execution.pipeline_execution_failure_reason = reason
            execution.last_modified_time = datetime.now(UTC)

        info = ExecutionInfo(execution.arn, pipeline_name, execution.start_time)
        endpoint = self._endpoint
        if endpoint is None:
            raise RuntimeError("sagemaker-pipeline-execution is not installed")
        run = PipelineRun(
            info,
            definition,
            values,
            S3Transfer(client(endpoint, info.region)),
            JobSettings(
                log=log_to(LOGGER),
                aws_environment=emulator_access(endpoint, info.region),
                image_pythons=IMAGE_PYTHONS,
            ),
            on_status,
        )
        on_status("Executing", None)
        setattr(execution, RUN_ATTRIBUTE, run)
        with self._lock:
            self._runs = [(owner, known) for owner, known in self._runs if not known.join(0)] + [(backend, run)]
        LOGGER.info("pipeline execution %s started", execution.arn)
        run.start()

    @staticmethod
    def _describe(original: Callable[..., Any]) -> Callable[..., Any]:
        def describe_pipeline_execution(backend: Any, pipeline_execution_arn: str) -> dict[str, Any]:
            from moto.sagemaker.utils import get_pipeline_execution_from_arn

            response = dict(original(backend, pipeline_execution_arn))
            execution = get_pipeline_execution_from_arn(backend.pipelines, pipeline_execution_arn)
            response.pop("FailureReason", None)
            if execution.pipeline_execution_failure_reason:
                response["FailureReason"] = execution.pipeline_execution_failure_reason
            return response

        return describe_pipeline_execution

    @staticmethod
    def _list(original: Callable[..., Any]) -> Callable[..., Any]:
        def list_pipeline_executions(backend: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
            response = dict(original(backend, *args, **kwargs))
            for summary in response.get("PipelineExecutionSummaries", []):
                if summary.get("PipelineExecutionFailureReason") in ("None", "", None):  # moto's str(None)
                    summary.pop("PipelineExecutionFailureReason", None)
            return response

        return list_pipeline_executions

    @staticmethod
    def _stop_execution(backend: Any, pipeline_execution_arn: str) -> dict[str, str]:
        """``SageMakerModelBackend.stop_pipeline_execution`` (added)."""
        from moto.sagemaker.exceptions import ValidationError
        from moto.sagemaker.utils import get_pipeline_execution_from_arn

        execution = get_pipeline_execution_from_arn(backend.pipelines, pipeline_execution_arn)
        run = run_of(execution)
        if run is None or execution.pipeline_execution_status not in ("Executing", "Stopping"):
            raise ValidationError(
                message=f"Pipeline execution {pipeline_execution_arn} is {execution.pipeline_execution_status}: "
                "only an Executing execution can be stopped"
            )
        run.stop()
        return {"PipelineExecutionArn": pipeline_execution_arn}

    @staticmethod
    def _stop_response(response: Any) -> Any:
        """``SageMakerResponse.stop_pipeline_execution`` (added)."""
        from moto.core.responses import ActionResult

        return ActionResult(
            response.sagemaker_backend.stop_pipeline_execution(response._get_param("PipelineExecutionArn"))
        )

    def _reset(self, original: Callable[..., Any]) -> Callable[..., Any]:
        extension = self

        def reset(backend: Any) -> None:
            with extension._lock:
                mine = [run for owner, run in extension._runs if owner is backend]
                extension._runs = [(owner, run) for owner, run in extension._runs if owner is not backend]
            for run in mine:  # their executions vanish with the reset: stop without a word
                run.stop(record=False)
            original(backend)

        return reset

    # -- extension ----------------------------------------------------------

    def patches(self) -> Sequence[Patch]:
        from moto.sagemaker.models import SageMakerModelBackend
        from moto.sagemaker.responses import SageMakerResponse

        return (
            Patch.wrap(SageMakerModelBackend, "start_pipeline_execution", self._start),
            Patch.wrap(SageMakerModelBackend, "describe_pipeline_execution", self._describe),
            Patch.wrap(SageMakerModelBackend, "list_pipeline_executions", self._list),
            Patch.wrap(SageMakerModelBackend, "reset", self._reset),
            Patch.add(SageMakerModelBackend, "stop_pipeline_execution", self._stop_execution),
            Patch.add(SageMakerResponse, "stop_pipeline_execution", self._stop_response),
        )

    def on_install(self, server: EmulatorServer) -> None:
        self._endpoint = server.url
        self._log_output.attach()

    def on_uninstall(self) -> None:
        with self._lock:
            runs, self._runs = [run for _, run in self._runs], []
        self._endpoint = None
        for run in runs:  # recorded: moto's state outlives this server in the process
            run.stop()
        deadline = time.monotonic() + SHUTDOWN_WAIT_SECONDS
        if not all(run.join(max(0.0, deadline - time.monotonic())) for run in runs):
            LOGGER.warning("pipeline executions still running after %.0f s", SHUTDOWN_WAIT_SECONDS)
        self._log_output.detach()
