"""Where each environment keeps Terraform state."""

from __future__ import annotations

from cdktf import LocalBackend, S3Backend, TerraformStack

from platform_config import EnvironmentConfig


def state_backend(stack: TerraformStack, config: EnvironmentConfig, stack_name: str) -> None:
    """local: a file in the git-ignored .state/local/ (or $LOCAL_STATE_DIR).

    dev/prod: the S3 backend, with S3-native locking (`use_lockfile`, Terraform >= 1.10). cdktf
    0.21's S3Backend has no `use_lockfile` property, so it is set through an override on the
    synthesized backend block.

    `encrypt` is off on purpose: the state bucket (stacks/bootstrap.py) encrypts every object with
    its own KMS key by default and refuses uploads that ask for another encryption, and the
    backend's `encrypt = true` without a `kms_key_id` (an id this config cannot know) asks for
    SSE-S3 (AES256) on every state and lock write.
    """
    if config.is_local:
        assert config.local_state_dir is not None
        LocalBackend(stack, path=str(config.local_state_dir / f"{stack_name}.tfstate"))
        return
    assert config.state is not None
    S3Backend(
        stack,
        bucket=config.state.bucket,
        key=config.state.key_for(stack_name),
        region=config.state.region,
        encrypt=False,
    )
    stack.add_override("terraform.backend.s3.use_lockfile", True)
