"""PlatformStack: what every stack of the platform shares."""

from __future__ import annotations

from cdktf import Aspects, TerraformStack
from constructs import Construct

from building_blocks.kms_key import KmsKey
from building_blocks.policy_guard import PolicyGuard
from building_blocks.secure_bucket import SecureBucket, SecureBucketProps, access_log_bucket
from platform_config import EnvironmentConfig
from stacks.backend import state_backend
from stacks.provider import aws_provider


class PlatformStack(TerraformStack):
    """A stack named `<env>-<component>` with the environment's provider, state backend
    and the synth-time policy guard.

    Args:
        component: the stack's role, e.g. "artifact-store".
        guard: the PolicyGuard to attach; one per app lets main.py report every violation.
    """

    def __init__(self, scope: Construct, component: str, *, config: EnvironmentConfig, guard: PolicyGuard) -> None:
        name = config.stack_name(component)
        super().__init__(scope, name)
        self.config = config
        aws_provider(self, config)
        state_backend(self, config, name)
        Aspects.of(self).add(guard)

    @property
    def disposable(self) -> bool:
        """Stateful resources may be destroyed only in the local emulator."""
        return self.config.is_local

    def add_key(self, construct_id: str, purpose: str, description: str) -> KmsKey:
        """A KmsKey aliased `<name_prefix>-<purpose>` with the environment's deletion window, disposable
        only in `local`: for what a stack owns besides its buckets (logs, environment, dead letters)."""
        return KmsKey(
            self,
            construct_id,
            alias_name=self.config.resource_name(purpose),
            description=description,
            deletion_window_days=self.config.kms_deletion_window_days,
            disposable=self.disposable,
        )

    def add_access_log_bucket(self, purpose: str) -> SecureBucket:
        """The stack's access-log bucket `<name_prefix>-<purpose>` (construct id "access-logs")."""
        return access_log_bucket(
            self,
            "access-logs",
            bucket_name=self.config.resource_name(purpose),
            retention_days=self.config.buckets.access_log_expiration_days,
            disposable=self.disposable,
        )

    def add_bucket(
        self,
        purpose: str,
        access_logs: SecureBucket,
        *,
        expire_objects_after_days: int | None = None,
        expire_objects_prefix: str = "",
    ) -> SecureBucket:
        """A SecureBucket `<name_prefix>-<purpose>` with the environment's retention settings,
        logging to `access_logs` (construct id = `purpose`). Objects are kept unless
        `expire_objects_after_days` is given (then only under `expire_objects_prefix`, default all)."""
        return SecureBucket(
            self,
            purpose,
            SecureBucketProps(
                bucket_name=self.config.resource_name(purpose),
                access_log_bucket=access_logs,
                key_deletion_window_days=self.config.kms_deletion_window_days,
                noncurrent_version_expiration_days=self.config.buckets.noncurrent_version_expiration_days,
                abort_incomplete_multipart_upload_days=self.config.buckets.abort_incomplete_multipart_upload_days,
                expire_objects_after_days=expire_objects_after_days,
                expire_objects_prefix=expire_objects_prefix,
                disposable=self.disposable,
            ),
        )
