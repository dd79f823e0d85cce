"""SageMaker Pipelines executions, run locally: pure execution logic, no moto.

* ``definition``: the pipeline definition (AWS format 2020-12-01): parameters, steps, branches;
* ``expressions``: ``Get``, ``Std:Join``, ``Std:JsonGet`` and the steps they reference;
* ``conditions``: a Condition step's ``Conditions``;
* ``executor``: ``PipelineRun``, one execution on a background thread, step by step;
* ``processing``/``training``: a Processing or (framework-mode) Training job as a local
  subprocess over a temporary ``/opt/ml`` (``jobs``: what both share), S3 through ``s3``.

The moto glue is ``emulator.patches.sagemaker_pipeline_execution`` and
``emulator.patches.sagemaker_pipeline_steps``.
"""

from emulator.sagemaker_pipelines.definition import DefinitionError, PipelineDefinition
from emulator.sagemaker_pipelines.executor import ExecutionInfo, PipelineRun
from emulator.sagemaker_pipelines.jobs import JobSettings, log_to
from emulator.sagemaker_pipelines.s3 import S3Transfer

__all__ = [
    "DefinitionError",
    "ExecutionInfo",
    "JobSettings",
    "PipelineDefinition",
    "PipelineRun",
    "S3Transfer",
    "log_to",
]
