"""A Training step's job in SageMaker framework mode (as the scikit-learn container runs it), locally.

From the step's (resolved) CreateTrainingJob arguments:

* ``HyperParameters.sagemaker_submit_directory`` (JSON text naming a ``tar.gz`` in S3) is extracted
  to ``/opt/ml/code``; each ``InputDataConfig`` channel's S3 prefix is downloaded to
  ``/opt/ml/input/data/<channel>``; ``/opt/ml/input/config/hyperparameters.json``,
  ``inputdataconfig.json`` and ``resourceconfig.json`` are written;
* ``python <sagemaker_program> --<key> <value> ...`` runs in ``/opt/ml/code`` for every
  hyperparameter not starting with ``sagemaker_`` (values JSON-decoded when they parse), with the
  ``SM_*`` variables of the SageMaker training toolkit (paths mapped into the job's root);
* after exit 0, the model directory's contents become
  ``<OutputDataConfig.S3OutputPath>/<job name>/output/model.tar.gz`` (SSE-KMS with
  ``OutputDataConfig.KmsKeyId``), the job's ``ModelArtifacts.S3ModelArtifacts``; files left in
  ``/opt/ml/output/data`` become ``output.tar.gz`` beside it. A failed job uploads nothing; the
  text of ``/opt/ml/output/failure``, when the script writes one, leads its FailureReason.

Images, instance types and counts are not used (one host, ``algo-1``).
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulator.child_process import ProcessGroups
from emulator.sagemaker_pipelines.jobs import JobFailed, JobSettings, LocalJob, environment, max_runtime, trim_reason
from emulator.sagemaker_pipelines.s3 import S3Transfer, TransferError

ERROR_PREFIX = "AlgorithmError: ExecuteUserScriptError"
HOST = "algo-1"


def decode(value: Any) -> Any:
    """A hyperparameter as the SDK wrote it (JSON text), decoded; raw when it is not JSON."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def command_line(hyperparameters: Mapping[str, Any]) -> list[str]:
    """``--key value`` for every user hyperparameter (``sagemaker_*`` are the toolkit's), sorted by key."""
    arguments = []
    for key in sorted(hyperparameters):
        if key.startswith("sagemaker_"):
            continue
        value = decode(hyperparameters[key])
        arguments += [f"--{key}", value if isinstance(value, str) else json.dumps(value)]
    return arguments


def model_artifacts_uri(job: Mapping[str, Any], name: str) -> str:
    """``<S3OutputPath>/<TrainingJobName>/output/model.tar.gz``."""
    output_path = str((job.get("OutputDataConfig") or {}).get("S3OutputPath", "")).rstrip("/")
    if not output_path:
        raise JobFailed("ClientError: OutputDataConfig.S3OutputPath is required")
    return f"{output_path}/{name}/output/model.tar.gz"


def run_training_job(
    name: str, job: Mapping[str, Any], settings: JobSettings, transfer: S3Transfer, processes: ProcessGroups
) -> str:
    """Run the training job ``name``; returns ModelArtifacts.S3ModelArtifacts. Raises ``JobFailed``/``JobStopped``."""
    hyperparameters = dict(job.get("HyperParameters") or {})
    program = decode(hyperparameters.get("sagemaker_program"))
    submit_directory = decode(hyperparameters.get("sagemaker_submit_directory"))
    if not program or not submit_directory:
        raise JobFailed(
            "ClientError: the emulator runs framework-mode training only "
            "(HyperParameters sagemaker_program and sagemaker_submit_directory)"
        )
    artifacts_uri = model_artifacts_uri(job, name)
    kms_key = (job.get("OutputDataConfig") or {}).get("KmsKeyId")
    image = str((job.get("AlgorithmSpecification") or {}).get("TrainingImage") or "")
    with LocalJob(name, settings, transfer, processes, image=image) as local:
        code_dir = local.path("/opt/ml/code/")
        _extract_submit_directory(local, str(submit_directory), code_dir)
        channels = _download_channels(local, job)
        config_dir = local.path("/opt/ml/input/config/")
        _write_json(config_dir / "hyperparameters.json", hyperparameters)
        _write_json(config_dir / "inputdataconfig.json", {name: {} for name in channels})
        _write_json(config_dir / "resourceconfig.json", {"current_host": HOST, "hosts": [HOST]})
        model_dir, output_data_dir = local.path("/opt/ml/model/"), local.path("/opt/ml/output/data/")
        user_hyperparameters = {k: decode(v) for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
        toolkit_env = {
            "SM_MODEL_DIR": str(model_dir),
            "SM_CHANNELS": json.dumps(sorted(channels)),
            "SM_HPS": json.dumps(user_hyperparameters),
            "SM_OUTPUT_DATA_DIR": str(output_data_dir),
            "SM_OUTPUT_DIR": str(local.path("/opt/ml/output/")),
            "SM_INPUT_DIR": str(local.path("/opt/ml/input/")),
            "SM_INPUT_CONFIG_DIR": str(config_dir),
            "SM_CURRENT_HOST": HOST,
            "SM_HOSTS": json.dumps([HOST]),
            "SM_NUM_CPUS": str(os.cpu_count() or 1),
            "SM_NUM_GPUS": "0",
            "SM_MODULE_DIR": str(submit_directory),
            "SM_USER_ENTRY_POINT": str(program),
            **{f"SM_CHANNEL_{channel.upper()}": str(path) for channel, path in channels.items()},
        }
        env = environment(local.root, local.python, job, toolkit_env, aws=settings.aws_environment)
        argv = ["python", str(program), *command_line(hyperparameters)]
        try:
            local.run(argv, cwd=code_dir, env=env, timeout=max_runtime(job), error_prefix=ERROR_PREFIX)
        except JobFailed as exc:
            failure = local.root / "opt" / "ml" / "output" / "failure"
            if failure.is_file():  # what the script said, as AWS reports it
                raise JobFailed(
                    trim_reason(f"AlgorithmError: {failure.read_text(errors='replace').strip()}; {exc}")
                ) from exc
            raise
        _upload_tarball(local, model_dir, artifacts_uri, kms_key)
        if any(path.is_file() for path in output_data_dir.rglob("*")):
            _upload_tarball(local, output_data_dir, artifacts_uri.rsplit("/", 1)[0] + "/output.tar.gz", kms_key)
    return artifacts_uri


def _extract_submit_directory(local: LocalJob, uri: str, code_dir: Path) -> None:
    if not uri.startswith("s3://"):
        raise JobFailed(f"ClientError: sagemaker_submit_directory must be an S3 URI, not {uri!r}")
    download_dir = local.path("/opt/ml/input/.submit/")
    try:
        (archive,) = local.transfer.download(uri, download_dir)
        with tarfile.open(archive) as tar:
            tar.extractall(code_dir, filter="data")  # refuses absolute paths, "..", devices
    except (TransferError, ValueError, tarfile.TarError) as exc:
        raise JobFailed(f"ClientError: sagemaker_submit_directory {uri}: {exc}") from exc
    local.log(f"code from {uri}")


def _download_channels(local: LocalJob, job: Mapping[str, Any]) -> dict[str, Path]:
    channels = {}
    for channel in job.get("InputDataConfig") or []:
        name = str(channel.get("ChannelName"))
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if not source or source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise JobFailed(f"ClientError: channel {name}: the emulator reads S3DataSource with S3DataType S3Prefix")
        directory = local.path(f"/opt/ml/input/data/{name}/")
        try:
            files = local.transfer.download(str(source.get("S3Uri")), directory)
        except TransferError as exc:
            raise JobFailed(f"ClientError: channel {name}: {exc}") from exc
        local.log(f"channel {name}: {len(files)} file(s) from {source.get('S3Uri')}")
        channels[name] = directory
    return channels


def _write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document), encoding="utf-8")


def _upload_tarball(local: LocalJob, directory: Path, uri: str, kms_key: str | None) -> None:
    local.raise_if_stopped()
    """``directory``'s contents (not the directory itself) as a gzipped tar at ``uri``."""
    archive = local.root / (Path(uri).name + ".upload")
    with tarfile.open(archive, "w:gz") as tar:
        for child in sorted(directory.iterdir()):
            tar.add(child, arcname=child.name)
    try:
        local.transfer.upload_file(archive, uri, kms_key)
    except TransferError as exc:
        raise JobFailed(f"ClientError: {exc}") from exc
    local.log(f"uploaded {uri}")


__all__ = ["command_line", "decode", "model_artifacts_uri", "run_training_job"]
