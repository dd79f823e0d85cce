"""A Processing step's job, run locally: inputs from S3, the entrypoint, outputs to S3.

From the step's (resolved) CreateProcessingJob arguments:

* each ``ProcessingInputs[].S3Input`` (``S3DataType`` ``S3Prefix``, ``S3InputMode`` ``File``) is
  downloaded under its ``LocalPath``;
* ``AppSpecification.ContainerEntrypoint`` + ``ContainerArguments`` run with ``python``/``python3``
  replaced by the emulator's interpreter and ``/opt/ml/...`` arguments mapped into the job's root;
  the job's ``Environment`` is passed; ``StoppingCondition.MaxRuntimeInSeconds`` kills it;
* after exit 0, every file under each ``ProcessingOutputConfig.Outputs[].S3Output.LocalPath`` is
  uploaded to ``<S3Uri>/<relative path>``, SSE-KMS with ``ProcessingOutputConfig.KmsKeyId`` when
  given. A failed job uploads nothing.

The image (``AppSpecification.ImageUri``) picks the interpreter (``JobSettings.image_pythons``, else the
emulator's); ``ProcessingResources`` are not used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from emulator.child_process import ProcessGroups
from emulator.sagemaker_pipelines.jobs import (
    JobFailed,
    JobSettings,
    LocalJob,
    environment,
    map_argument,
    max_runtime,
)
from emulator.sagemaker_pipelines.s3 import S3Transfer, TransferError

ERROR_PREFIX = "AlgorithmError"


def run_processing_job(
    name: str, job: Mapping[str, Any], settings: JobSettings, transfer: S3Transfer, processes: ProcessGroups
) -> None:
    """Run the processing job ``name`` described by ``job``; raises ``JobFailed``/``JobStopped``."""
    app = job.get("AppSpecification") or {}
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    if not entrypoint:
        raise JobFailed("ClientError: the emulator runs AppSpecification.ContainerEntrypoint only (images do not run)")
    outputs = (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    with LocalJob(name, settings, transfer, processes, image=str(app.get("ImageUri") or "")) as local:
        (local.path("/opt/ml/config/") / "processingjobconfig.json").write_text(json.dumps(job), encoding="utf-8")
        for item in job.get("ProcessingInputs") or []:
            _download_input(local, item)
        output_dirs = {}
        for output in outputs:
            s3_output = output.get("S3Output") or {}
            output_dirs[output.get("OutputName")] = (local.path(str(s3_output.get("LocalPath"))), s3_output)
        argv = [
            map_argument(local.root, str(argument))
            for argument in entrypoint + list(app.get("ContainerArguments") or [])
        ]
        env = environment(local.root, local.python, job, aws=settings.aws_environment)
        local.run(argv, cwd=local.root, env=env, timeout=max_runtime(job), error_prefix=ERROR_PREFIX)
        kms_key = (job.get("ProcessingOutputConfig") or {}).get("KmsKeyId")
        for output_name, (directory, s3_output) in output_dirs.items():
            local.raise_if_stopped()
            try:
                keys = transfer.upload_tree(directory, str(s3_output.get("S3Uri")), kms_key)
            except TransferError as exc:
                raise JobFailed(f"ClientError: output {output_name}: {exc}") from exc
            local.log(f"output {output_name}: {len(keys)} object(s) uploaded to {s3_output.get('S3Uri')}")


def _download_input(local: LocalJob, item: Mapping[str, Any]) -> None:
    s3_input = item.get("S3Input")
    if not s3_input:
        raise JobFailed(f"ClientError: input {item.get('InputName')}: the emulator reads S3Input inputs only")
    data_type = s3_input.get("S3DataType", "S3Prefix")
    mode = s3_input.get("S3InputMode", "File")
    if data_type != "S3Prefix" or mode != "File":
        raise JobFailed(
            f"ClientError: input {item.get('InputName')}: the emulator reads S3DataType S3Prefix in File mode, "
            f"not {data_type}/{mode}"
        )
    try:
        files = local.transfer.download(str(s3_input.get("S3Uri")), local.path(str(s3_input.get("LocalPath"))))
    except TransferError as exc:
        raise JobFailed(f"ClientError: input {item.get('InputName')}: {exc}") from exc
    local.log(f"input {item.get('InputName')}: {len(files)} file(s) from {s3_input.get('S3Uri')}")


__all__ = ["run_processing_job"]
