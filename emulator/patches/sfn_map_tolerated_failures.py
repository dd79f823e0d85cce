"""Step Functions Distributed Map: failed items fail the Map run unless tolerated, as on AWS.

moto gap: in ``moto/stepfunctions/parser/asl/component/state/exec/state_map/iteration/``,
``itemprocessor/distributed_item_processor_worker.py`` ``DistributedItemProcessorWorker._eval_job``
(and ``iterator/distributed_iterator_worker.py`` ``DistributedIteratorWorker._eval_job``) count a
failed child execution and record ``null`` as its result, and
``distributed_iteration_component.py`` ``DistributedIterationComponent._map_run`` never looks
at the failures: a Distributed Map always succeeds, whatever ``ToleratedFailurePercentage`` /
``ToleratedFailureCount`` say (the parser even logs that they "currently have no effect").

The patch

* wraps both workers' ``_eval_job`` to note which items did not end successfully
  (failed, timed out or aborted child executions);
* replaces ``DistributedIterationComponent._map_run`` (same worker pool) to apply AWS's rule
  once all items ran: with neither field declared any failure fails the run; otherwise the
  run fails when failed items exceed ``ToleratedFailureCount`` or their share of all items
  exceeds ``ToleratedFailurePercentage`` (whichever is declared). The Map state then fails
  with ``States.ExceedToleratedFailureThreshold`` (MapRunFailed, MapStateFailed; Retry/Catch
  apply). A tolerated failure contributes no result: the output lists the successful items'
  results in item order;
* wraps ``moto/stepfunctions/parser/asl/component/state/exec/state_map/state_map.py``
  ``StateMap.from_state_props`` to record which of the two fields the definition declares
  (moto fills undeclared ones with 0);
* filters the parser's now-wrong warning that these fields "currently have no effect".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from emulator.extension import Patch, PatchExtension

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

ERROR = "States.ExceedToleratedFailureThreshold"
CAUSE = "The specified tolerated failure threshold was exceeded"
_DECLARED = "_emulator_tolerance_declared"
_FAILED = "_emulator_failed_items"
PREPROCESSOR_LOGGER = "moto.stepfunctions.parser.asl.parse.preprocessor"


class _NoStaleWarning(logging.Filter):
    """Drop the parser's "Tolerated... declarations currently have no effect" warning (they do now)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("ToleratedFailure") and "currently have no effect" in message)


def exceeds_threshold(failed: int, total: int, count: int | None, percentage: float | None) -> bool:
    """AWS's rule; ``None`` means the field is not declared."""
    if failed == 0:
        return False
    if count is None and percentage is None:
        return True
    if count is not None and failed > count:
        return True
    return percentage is not None and total > 0 and failed * 100.0 / total > percentage


def _from_state_props(original: Callable[..., None]) -> Callable[..., None]:
    def from_state_props(self: Any, state_props: Any) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
            ToleratedFailureCountDecl,
            ToleratedFailurePercentageDecl,
        )

        original(self, state_props)
        declared = (
            state_props.get(ToleratedFailureCountDecl) is not None,
            state_props.get(ToleratedFailurePercentageDecl) is not None,
        )
        setattr(self.iteration_component, _DECLARED, declared)

    return from_state_props


def _eval_job(original: Callable[..., None]) -> Callable[..., None]:
    def _eval_job(self: Any, env: Any, job: Any) -> None:
        from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded

        ended = False
        try:
            original(self, env, job)
            ended = isinstance(env.program_state(), ProgramEnded)
        finally:
            failed = getattr(self._job_pool, _FAILED, None)
            if failed is not None and not ended:
                with failed[0]:
                    failed[1].add(job.job_index)

    return _eval_job


def _map_run(self: Any, env: Any, eval_input: Any) -> None:
    """``DistributedIterationComponent._map_run`` with the tolerated-failure check."""
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.job import JobPool
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.max_concurrency import (
        DEFAULT_MAX_CONCURRENCY_VALUE,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    input_items: list[Any] = env.stack.pop()
    job_pool = JobPool(job_program=self._get_iteration_program(), job_inputs=input_items)
    failed_items: set[int] = set()
    setattr(job_pool, _FAILED, (threading.Lock(), failed_items))

    max_concurrency = eval_input.map_run_record.max_concurrency
    workers = len(input_items) if max_concurrency == DEFAULT_MAX_CONCURRENCY_VALUE else max_concurrency
    for _ in range(workers):
        self._launch_worker(env=env, eval_input=eval_input, job_pool=job_pool)
    job_pool.await_jobs()

    worker_exception = job_pool.get_worker_exception()
    if worker_exception is not None:
        raise worker_exception

    count = eval_input.tolerated_failure_count
    percentage = eval_input.tolerated_failure_percentage
    # Parsed before this patch was installed: guess from the values (moto's default is 0).
    count_declared, percentage_declared = getattr(self, _DECLARED, (bool(count), bool(percentage)))
    if exceeds_threshold(
        failed=len(failed_items),
        total=len(input_items),
        count=count if count_declared else None,
        percentage=percentage if percentage_declared else None,
    ):
        raise FailureEventException(
            failure_event=FailureEvent(
                env=env,
                error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                event_type=HistoryEventType.MapRunFailed,
                event_details=EventDetails(mapRunFailedEventDetails=MapRunFailedEventDetails(error=ERROR, cause=CAUSE)),
            )
        )
    outputs = [job.job_output for job in job_pool.get_closed_jobs() if job.job_index not in failed_items]
    env.stack.append(outputs)


class StepFunctionsMapToleratedFailures(PatchExtension):
    """Apply ToleratedFailureCount/Percentage to Distributed Map runs."""

    name = "sfn-map-tolerated-failures"
    # Patches the ASL interpreter's Map run, which only runs once sfn-execution switches it on.
    requires = ("sfn-execution",)

    def __init__(self) -> None:
        super().__init__()
        self._filter = _NoStaleWarning()

    def on_install(self, server: EmulatorServer) -> None:
        logging.getLogger(PREPROCESSOR_LOGGER).addFilter(self._filter)

    def on_uninstall(self) -> None:
        logging.getLogger(PREPROCESSOR_LOGGER).removeFilter(self._filter)

    def patches(self) -> Sequence[Patch]:
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
            distributed_iteration_component,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
            distributed_item_processor_worker,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iterator import (
            distributed_iterator_worker,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap

        return (
            Patch.wrap(StateMap, "from_state_props", _from_state_props),
            Patch.wrap(distributed_item_processor_worker.DistributedItemProcessorWorker, "_eval_job", _eval_job),
            Patch.wrap(distributed_iterator_worker.DistributedIteratorWorker, "_eval_job", _eval_job),
            Patch.replace(distributed_iteration_component.DistributedIterationComponent, "_map_run", _map_run),
        )
