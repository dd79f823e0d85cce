"""The typed environment configuration every stack is built from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

ENVIRONMENTS = ("local", "dev", "prod")


@dataclass(frozen=True)
class StateBackend:
    """Where dev/prod keep Terraform state: an S3 bucket with native lock files."""

    bucket: str
    key_prefix: str
    region: str

    def key_for(self, stack_name: str) -> str:
        """State object key of one stack, e.g. 'ml-platform/dev/dev-artifact-store.tfstate'."""
        return f"{self.key_prefix.rstrip('/')}/{stack_name}.tfstate"


@dataclass(frozen=True)
class EnvironmentConfig:
    """One validated environment. Built by `platform_config.load`, never by hand in stacks."""

    name: str
    project: str
    repository: str
    region: str
    name_prefix: str
    log_retention_days: int
    noncurrent_version_expiration_days: int
    abort_incomplete_multipart_upload_days: int
    access_log_expiration_days: int
    kms_deletion_window_days: int
    processor_reserved_concurrency: int
    processor_memory_mb: int
    processor_timeout_seconds: int
    backfill_max_concurrency: int
    backfill_tolerated_failure_percentage: int
    allowed_account_ids: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    state: StateBackend | None = None
    emulator_port: int | None = None
    local_state_dir: Path | None = None

    @property
    def is_local(self) -> bool:
        """True for the embedded emulator environment (disposable resources, local state)."""
        return self.name == "local"

    @property
    def emulator_url(self) -> str:
        """Endpoint of the local AWS emulator; only meaningful for `local`."""
        if self.emulator_port is None:
            raise ValueError(f"environment {self.name!r} has no emulator")
        return f"http://127.0.0.1:{self.emulator_port}"

    def stack_name(self, component: str) -> str:
        """Stack names start with the environment, so `local-*` selects one environment."""
        return f"{self.name}-{component}"

    def resource_name(self, purpose: str) -> str:
        """Name of a named AWS resource, e.g. 'mlp-dev-candidate-models'."""
        return f"{self.name_prefix}-{purpose}"

    def default_tags(self) -> dict[str, str]:
        """Tags the provider puts on every resource (user tags cannot override these four)."""
        return {
            **self.tags,
            "project": self.project,
            "environment": self.name,
            "managed-by": "cdktf",
            "repository": self.repository,
        }
