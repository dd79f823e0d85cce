"""An SNS topic for operational notifications: KMS-encrypted, TLS-only, owned by the account.

Publishers get `sns:Publish` on this topic and the key actions an encrypted topic needs, through SNS only
(`grant_publish`). Subscribers are added outside the platform (an email or a pager endpoint per team). SNS
decrypts a message before it delivers it, so subscribers need nothing on this key; an SQS subscriber needs a
queue policy letting `sns.amazonaws.com` send (and, for a queue with its own customer-managed key, that key's
permission for SNS). An AWS service that would publish here itself (a CloudWatch alarm, EventBridge) needs a
topic policy statement and `key.allow_service` for its principal.
"""

from __future__ import annotations

from constructs import Construct

from building_blocks import perms
from building_blocks.account import AccountContext
from building_blocks.iam import Grant, Grantee, Statement, policy_document
from building_blocks.kms_key import KmsKey
from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
# ruff: noqa: E402
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy


class NotificationTopic(Construct):
    """An SNS topic `topic_name` encrypted with `key`, whose policy lets the account's IAM policies manage it
    and refuses publishing without TLS."""

    def __init__(self, scope: Construct, construct_id: str, *, topic_name: str, key: KmsKey) -> None:
        super().__init__(scope, construct_id)
        account = AccountContext.of(self)
        self._region = account.region
        self.key = key
        self.topic = SnsTopic(self, "topic", name=topic_name, kms_master_key_id=key.arn)
        self.policy = SnsTopicPolicy(
            self,
            "policy",
            arn=self.topic.arn,
            policy=policy_document(
                [
                    Statement(
                        sid="AccountOwnsTopic",
                        actions=perms.TOPIC_OWNER_ACTIONS,
                        resources=(self.topic.arn,),
                        principals={"AWS": (account.root_arn(),)},
                    ),
                    Statement(
                        sid="DenyInsecureTransport",
                        effect="Deny",
                        actions=perms.TOPIC_PUBLISH_ACTIONS,
                        resources=(self.topic.arn,),
                        principals={"AWS": ("*",)},
                        conditions={"Bool": {"aws:SecureTransport": "false"}},
                    ),
                ]
            ),
        )

    @property
    def arn(self) -> str:
        return self.topic.arn

    def grant_publish(self, grantee: Grantee, name: str) -> Grant:
        """Let `grantee` publish to this topic only, with the key actions SNS needs to encrypt the message, usable
        only through SNS (the key encrypts other things of the stack too)."""
        return grantee.add_policy(
            name,
            [
                Statement(sid="PublishToTopic", actions=perms.TOPIC_PUBLISH_ACTIONS, resources=(self.topic.arn,)),
                Statement(
                    sid="EncryptMessages",
                    actions=perms.KEY_MESSAGE_SEND_ACTIONS,
                    resources=(self.key.arn,),
                    conditions={"StringEquals": {"kms:ViaService": f"sns.{self._region}.amazonaws.com"}},
                ),
            ],
        )
