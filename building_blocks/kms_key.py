"""Customer-managed KMS key with rotation, an alias and an explicit key policy."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.iam import Statement
from building_blocks.lazy_policy import LazyPolicy
from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias  # noqa: E402
from cdktf_cdktf_provider_aws.kms_key import KmsKey as _KmsKeyResource  # noqa: E402


class KmsKey(Construct):
    """A symmetric KMS key: rotation on, alias `alias/<alias_name>`, least-privilege policy.

    The key policy lets the account's IAM policies administer and use the key (an explicit
    action list instead of `kms:*`); grants then give roles exactly what they need.

    Args:
        alias_name: alias without the `alias/` prefix, e.g. "mlp-dev-candidate-models".
        description: what the key protects.
        deletion_window_days: 7-30 (default 30); the waiting period before deletion.
        disposable: True only for the local emulator: allows `terraform destroy`.
            Default False: `prevent_destroy` guards the key, because losing it loses the data.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias_name: str,
        description: str,
        deletion_window_days: int = 30,
        disposable: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 7 <= deletion_window_days <= 30:
            raise ValueError(f"KmsKey {alias_name}: deletion_window_days={deletion_window_days} must be 7-30")
        account = AccountContext.of(self)
        self.policy = LazyPolicy(
            [
                Statement(
                    sid="AccountAdministersKey",
                    actions=perms.KEY_ADMIN_ACTIONS + perms.KEY_USE_ACTIONS,
                    principals={"AWS": (account.root_arn(),)},
                ),
            ]
        )
        self.key = _KmsKeyResource(
            self,
            "key",
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            policy=self.policy.json,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=not disposable),
        )
        self.alias = KmsAlias(self, "alias", name=f"alias/{alias_name}", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn

    def allow_service(
        self, sid: str, service_principal: str, actions: Sequence[str], conditions: dict | None = None
    ) -> None:
        """Let an AWS service principal use the key (e.g. CloudWatch Logs), scoped by conditions."""
        self.policy.add(
            Statement(
                sid=sid,
                actions=tuple(actions),
                principals={"Service": (service_principal,)},
                conditions=conditions or {},
            )
        )

    def decrypt_statement(self) -> Statement:
        """Decrypt with this key only (for readers of data it protects)."""
        return Statement(sid="DecryptWithKey", actions=perms.KEY_DECRYPT_ACTIONS, resources=(self.arn,))

    def encrypt_decrypt_statement(self) -> Statement:
        """Generate data keys, encrypt and decrypt with this key only (for writers)."""
        return Statement(sid="EncryptDecryptWithKey", actions=perms.KEY_ENCRYPT_ACTIONS, resources=(self.arn,))
