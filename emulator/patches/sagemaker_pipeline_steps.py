"""SageMaker ListPipelineExecutionSteps: the steps an execution has started, as AWS lists them.

moto gap: ``moto/sagemaker/models.py`` ``SageMakerModelBackend`` and ``moto/sagemaker/responses.py``
``SageMakerResponse`` have no ``list_pipeline_execution_steps`` (moto raises NotImplementedError,
a 500 that boto3 retries), and an execution has no steps to list until
``sagemaker_pipeline_execution`` runs them.

The patch adds both: the steps of the execution's ``PipelineRun`` as ``PipelineExecutionStep``
entries (``StepName``, ``StepDisplayName``, ``StepStatus``, ``StartTime``, ``EndTime``,
``FailureReason``, ``AttemptCount``, ``Metadata`` of the ``ProcessingJob``/``TrainingJob``/
``Condition``/``Fail`` kinds), sorted by start time, ``Descending`` unless ``SortOrder`` says
``Ascending`` (AWS's default), paginated by ``MaxResults`` (default and maximum 100) and
``NextToken`` (an offset into that order). An execution started before the patch lists no steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension
from emulator.patches.sagemaker_pipeline_execution import run_of

MAX_RESULTS = 100  # ListPipelineExecutionSteps' MaxResults range is 1..100


def page(steps: list[dict[str, Any]], next_token: str | None, max_results: int | None) -> dict[str, Any]:
    """One page of ``steps`` from the offset ``next_token``; raises ``ValueError`` for a bad token."""
    start = int(next_token) if next_token else 0
    if start < 0 or start > len(steps):
        raise ValueError(next_token)
    end = start + (max_results or MAX_RESULTS)
    result: dict[str, Any] = {"PipelineExecutionSteps": steps[start:end]}
    if end < len(steps):
        result["NextToken"] = str(end)
    return result


def _list_steps(
    backend: Any,
    pipeline_execution_arn: str,
    next_token: str | None = None,
    max_results: int | None = None,
    sort_order: str | None = None,
) -> dict[str, Any]:
    """``SageMakerModelBackend.list_pipeline_execution_steps`` (added)."""
    from moto.sagemaker.exceptions import AWSValidationException
    from moto.sagemaker.utils import get_pipeline_execution_from_arn

    execution = get_pipeline_execution_from_arn(backend.pipelines, pipeline_execution_arn)
    run = run_of(execution)
    steps = run.steps() if run is not None else []  # already in start order
    if (sort_order or "Descending") == "Descending":
        steps.reverse()
    try:
        return page(steps, next_token, max_results)
    except ValueError as exc:
        raise AWSValidationException(f"Invalid pagination token {next_token!r}") from exc


def _list_steps_response(response: Any) -> Any:
    """``SageMakerResponse.list_pipeline_execution_steps`` (added)."""
    from moto.core.responses import ActionResult

    return ActionResult(
        response.sagemaker_backend.list_pipeline_execution_steps(
            response._get_param("PipelineExecutionArn"),
            response._get_param("NextToken"),
            response._get_param("MaxResults"),
            response._get_param("SortOrder"),
        )
    )


class SageMakerPipelineSteps(PatchExtension):
    """Answer ListPipelineExecutionSteps from the execution's run."""

    name = "sagemaker-pipeline-steps"
    # The steps are those of the PipelineRun that sagemaker-pipeline-execution keeps on the execution.
    requires = ("sagemaker-pipeline-execution",)

    def patches(self) -> Sequence[Patch]:
        from moto.sagemaker.models import SageMakerModelBackend
        from moto.sagemaker.responses import SageMakerResponse

        return (
            Patch.add(SageMakerModelBackend, "list_pipeline_execution_steps", _list_steps),
            Patch.add(SageMakerResponse, "list_pipeline_execution_steps", _list_steps_response),
        )
