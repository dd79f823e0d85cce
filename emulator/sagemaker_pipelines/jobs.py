"""What processing and training jobs share: names, the `/opt/ml` root, the environment, one run.

A job runs in a temporary directory that stands for the container's ``/``: its inputs are
downloaded under ``<root>/opt/ml/...``, every argument starting with ``/opt/ml/`` is mapped into
that root, and the script runs with the emulator's own Python (``sys.executable``, so its installed
packages) in its own process group, with an environment built from scratch: nothing of the
emulator's own environment, only what SageMaker gives a container, with the job role's credentials
standing as the emulator's endpoint and dummy keys (``JobSettings.aws_environment``), so a script
that calls AWS (e.g. to check that a model version is new) reaches the emulator. Each output line
goes to the log sink as it comes.
"""

from __future__ import annotations

import logging
import os
import random
import re
import shutil
import string
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.child_process import STRIPPED_ENV_PREFIXES, ProcessGroups, ProcessOutcome, no_local_aws_config
from emulator.sagemaker_pipelines.s3 import S3Transfer

LOGGER = logging.getLogger("emulator.sagemaker")
OPT_ML = "/opt/ml/"
JOB_NAME_LIMIT = 63  # ProcessingJobName/TrainingJobName: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
DEFAULT_MAX_RUNTIME_SECONDS = 86400  # SageMaker's default StoppingCondition
STDERR_TAIL_LINES = 10
FAILURE_REASON_LIMIT = 1024  # PipelineExecutionStep.FailureReason's maximum length
PYTHON_NAMES = ("python", "python3")

JobLog = Callable[[str, str], None]
"""``log(job_name, line)``: where each line a job writes goes."""


class JobFailed(Exception):
    """The job failed; the message is its FailureReason (AWS words, e.g. ``AlgorithmError: ...``)."""


class JobStopped(Exception):
    """The job was stopped (StopPipelineExecution, emulator stopping or reset)."""


@dataclass(frozen=True)
class JobSettings:
    """Where jobs run and log: ``python`` replaces ``python``/``python3``; ``log`` gets every line;
    ``aws_environment`` is how the job reaches AWS as its role (endpoint, credentials, region)."""

    log: JobLog
    python: str = sys.executable
    temp_dir: Path | None = None
    aws_environment: Mapping[str, str] = field(default_factory=dict)
    image_pythons: Mapping[str, str] = field(default_factory=dict)

    def python_for(self, image: str) -> tuple[str, str | None]:
        """The interpreter standing in for `image`, and a note when there is none.

        ``image_pythons`` maps the start of an image's ``<repository>:<tag>`` (``sagemaker-scikit-learn:1.2-1``)
        to a local interpreter with the image's Python and packages; an image without one, or whose
        interpreter is not installed, runs with ``python`` (the emulator's), said once per job."""
        name = image.rsplit("/", 1)[-1]
        for prefix, interpreter in self.image_pythons.items():
            if name.startswith(prefix):
                if Path(interpreter).is_file():
                    return interpreter, None
                return self.python, f"{interpreter} (for {prefix}) is not installed: running with {self.python}"
        return self.python, None


def job_name(execution_id: str, step_name: str) -> str:
    """``pipelines-<execution id>-<StepName>-<random>``, trimmed to 63 characters, as AWS names them."""
    suffix = "".join(random.choices(string.ascii_letters + string.digits, k=10))
    step = re.sub(r"[^A-Za-z0-9-]+", "-", step_name)
    head = f"pipelines-{execution_id}-{step}"[: JOB_NAME_LIMIT - len(suffix) - 1].rstrip("-")
    return f"{head}-{suffix}"


def in_root(root: Path, path: str) -> Path:
    """``/opt/ml/x`` -> ``<root>/opt/ml/x`` (paths elsewhere are the container's own: refused)."""
    if not str(path).startswith(OPT_ML):
        raise JobFailed(f"ClientError: local path {path!r} is not under {OPT_ML}")
    parts = [part for part in Path(path).parts[1:] if part not in ("", ".")]
    if ".." in parts:
        raise JobFailed(f"ClientError: local path {path!r} leaves {OPT_ML}")
    return root.joinpath(*parts)


def map_argument(root: Path, argument: str) -> str:
    """A command-line argument with a leading ``/opt/ml/`` mapped into the job's root."""
    return str(in_root(root, argument)) if argument.startswith(OPT_ML) else argument


def environment(
    root: Path,
    python: str,
    job: Mapping[str, Any],
    extra: Mapping[str, str] | None = None,
    aws: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The job's Environment (endpoint/profile/credential names dropped), then what the emulator sets,
    then ``aws`` (the role's access, as SageMaker provides it to a container).

    Built from scratch: nothing of the emulator's own environment leaks in; ``python3`` on
    ``PATH`` is the emulator's interpreter; ``~/.aws`` points at files that do not exist.
    """
    own = job.get("Environment") or {}
    env = {str(key): str(value) for key, value in own.items() if not str(key).startswith(STRIPPED_ENV_PREFIXES)}
    home = root / "root"  # the container's HOME
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "PATH": os.pathsep.join((str(Path(python).parent), "/usr/local/bin", "/usr/bin", "/bin")),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "PYTHONUNBUFFERED": "1",  # lines reach the log as they are printed
            "PYTHONDONTWRITEBYTECODE": "1",
            **no_local_aws_config(home),
            **(extra or {}),
        }
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    env.update(aws or {})
    return env


def max_runtime(job: Mapping[str, Any]) -> float:
    """StoppingCondition.MaxRuntimeInSeconds (SageMaker's default: one day)."""
    value = (job.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME_SECONDS)
    return float(value)


def trim_reason(reason: str, limit: int = FAILURE_REASON_LIMIT) -> str:
    """A FailureReason that fits AWS's limit, keeping the end (where the error is)."""
    return reason if len(reason) <= limit else "..." + reason[-(limit - 3) :]


@dataclass
class LocalJob:
    """One job's temporary root and its run; ``with`` removes the root afterwards."""

    name: str
    settings: JobSettings
    transfer: S3Transfer
    processes: ProcessGroups
    image: str = ""
    root: Path = field(init=False)
    python: str = field(init=False)

    def __enter__(self) -> LocalJob:
        self.root = Path(tempfile.mkdtemp(prefix="emulator-sagemaker-", dir=self.settings.temp_dir))
        self.python, note = self.settings.python_for(self.image)
        if note:
            self.log(note)
        return self

    def __exit__(self, *exc_info: object) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def path(self, container_path: str) -> Path:
        """The local directory standing for ``container_path`` (created)."""
        local = in_root(self.root, container_path)
        local.mkdir(parents=True, exist_ok=True)
        return local

    def log(self, line: str) -> None:
        self.settings.log(self.name, line)

    def raise_if_stopped(self, stopped: bool = False) -> None:
        """``JobStopped`` once the execution is being stopped (checked before every upload)."""
        if stopped or self.processes.closed:
            raise JobStopped(f"job {self.name} was stopped")

    def run(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float, error_prefix: str) -> None:
        """Run the job's process; raise ``JobFailed`` (exit code, stderr tail) or ``JobStopped``."""
        command = [self.python if argv[0] in PYTHON_NAMES else argv[0], *argv[1:]]
        stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)

        def on_stderr(line: str) -> None:
            stderr_tail.append(line)
            self.log(line)

        self.log(f"running {' '.join(argv)} (python: {self.python})")
        try:
            outcome = self.processes.run(
                command, cwd=cwd, env=env, timeout=timeout, stdout=self.log, stderr=on_stderr, label=self.name
            )
        except OSError as exc:  # e.g. an entrypoint that is not on PATH
            raise JobFailed(f"{error_prefix}: cannot start {argv[0]!r}: {exc}") from exc
        # Stopped, even after a clean exit: a stopped job uploads nothing (a Publish must not publish).
        self.raise_if_stopped(outcome is None)
        if outcome.timed_out:
            raise JobFailed(
                f"{error_prefix}: the job ran longer than StoppingCondition.MaxRuntimeInSeconds ({timeout:.0f}) "
                "and was stopped"
            )
        if outcome.exit_code != 0:
            raise JobFailed(failure_reason(error_prefix, outcome, stderr_tail))
        self.log("completed")


def failure_reason(prefix: str, outcome: ProcessOutcome, stderr_tail: Sequence[str]) -> str:
    """``AlgorithmError: ExitCode 1 ... ErrorMessage "<last stderr lines>"``, within AWS's limit."""
    code = outcome.exit_code if outcome.exit_code >= 0 else outcome.describe()
    tail = "\n".join(stderr_tail).strip()
    return trim_reason(f'{prefix}: ExitCode {code}, ErrorMessage "{tail}"')


def log_to(logger: logging.Logger = LOGGER) -> JobLog:
    """A job log writing ``[job name] line`` at INFO to ``logger``."""

    def log(name: str, line: str) -> None:
        logger.info("[%s] %s", name, line)

    return log


__all__ = [
    "JobFailed",
    "JobSettings",
    "JobStopped",
    "LocalJob",
    "environment",
    "job_name",
    "log_to",
    "map_argument",
    "max_runtime",
]
