"""PlatformStack: what every stack of the platform shares."""

from __future__ import annotations

from cdktf import Aspects, TerraformStack
from constructs import Construct

from building_blocks.policy_guard import PolicyGuard
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

    def __init__(self, scope: Construct, component: str, *, config: EnvironmentConfig,
                 guard: PolicyGuard) -> None:
        name = config.stack_name(component)
        super().__init__(scope, name)
        self.config = config
        self.stack_name = name
        aws_provider(self, config)
        state_backend(self, config, name)
        Aspects.of(self).add(guard)
