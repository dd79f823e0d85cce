"""AWS managed IAM policies (``arn:aws:iam::aws:policy/...``) exist.

moto gap: ``moto/iam/models.py`` ``IAMBackend._init_aws_policies`` loads the
~1,500 AWS managed policies only when ``moto.settings.load_iam_aws_managed_policies()``
is true, which is off by default, so ``GetPolicy``/``AttachRolePolicy`` on
e.g. ``service-role/AWSLambdaBasicExecutionRole`` fail with NoSuchEntity.

How it is switched on, and why this way: the setting is read when an IAM
backend is first created (per account). ``POST /moto-api/config`` cannot set
it (``moto/moto_api/_internal/models.py`` ``set_config`` only accepts
``batch``, ``lambda`` and ``stepfunctions``); the in-process
``moto.core.config.default_user_config["iam"]`` and the
``MOTO_IAM_LOAD_MANAGED_POLICIES`` environment variable both work because
``ThreadedMotoServer`` runs in this process. We use the config dict (no
environment leaks into child processes) and also load the policies into IAM
backends that already exist, e.g. when another component touched IAM before
the server started. Uninstalling restores the setting; policies already
loaded stay, which is harmless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from emulator.extension import PatchExtension, missing_target

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

CONFIG_TARGET = 'moto.core.config.default_user_config["iam"]["load_aws_managed_policies"]'


class IamManagedPolicies(PatchExtension):
    """Make AWS managed IAM policies available in every account."""

    name = "iam-managed-policies"

    def __init__(self) -> None:
        super().__init__()
        self._previous: dict[str, Any] | None = None

    def on_install(self, server: EmulatorServer) -> None:
        from moto.core.config import default_user_config
        from moto.iam.models import IAMBackend, iam_backends

        if "load_aws_managed_policies" not in default_user_config.get("iam", {}):
            raise missing_target(self.name, CONFIG_TARGET)
        if not hasattr(IAMBackend, "_init_aws_policies"):
            raise missing_target(self.name, "moto.iam.models.IAMBackend._init_aws_policies")
        self._previous = dict(default_user_config.get("iam", {}))
        enabled: Any = {**self._previous, "load_aws_managed_policies": True}
        default_user_config["iam"] = enabled
        for _account, _partition, base_backend in iam_backends.iter_backends():
            backend = cast(IAMBackend, base_backend)
            if not backend.aws_managed_policies:
                backend.aws_managed_policies = backend._init_aws_policies()
                for policy in backend.aws_managed_policies:
                    backend.managed_policies.setdefault(policy.arn, policy)

    def on_uninstall(self) -> None:
        from moto.core.config import default_user_config

        if self._previous is not None:
            previous: Any = self._previous
            default_user_config["iam"] = previous
            self._previous = None
