"""IAM action lists the grant helpers use, named once (as AWS CDK's perms.ts does).

No wildcards: every list names the exact actions, so a policy reads as what it allows.
"""

BUCKET_READ_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
)
BUCKET_LIST_ACTIONS = ("s3:ListBucket", "s3:ListBucketVersions")
BUCKET_WRITE_ACTIONS = ("s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")

KEY_DECRYPT_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
# SSE-KMS uploads need a data key; multipart uploads also decrypt it again per part.
KEY_ENCRYPT_ACTIONS = ("kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey")

# What the account (through its IAM policies) may do with a key. This replaces the
# usual `kms:*` of the default key policy with the explicit list of KMS key actions.
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
KEY_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
