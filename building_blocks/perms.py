"""Every IAM action list the constructs use, named once (as AWS CDK's perms.ts does).

No wildcards in an Allow: every list names the exact actions, so a policy reads as what it allows.
The lists under "Resource `*` only" are the actions AWS offers no resource-level permission for;
tests/unit/test_all_stacks.py allows `*` resources for exactly those.
"""

# -- S3 ------------------------------------------------------------------------------------------
BUCKET_READ_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
)
BUCKET_LIST_ACTIONS = ("s3:ListBucket", "s3:ListBucketVersions")
BUCKET_WRITE_ACTIONS = (
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
# What S3's log delivery service may do in an access-log bucket.
ACCESS_LOG_DELIVERY_ACTIONS = ("s3:PutObject",)
# Bucket policy Denies (a Deny may use a wildcard: denying more is safe).
DENY_ALL_S3_ACTIONS = ("s3:*",)
DENY_UPLOAD_ACTIONS = ("s3:PutObject",)
# The event a data bucket notifies functions of by default.
OBJECT_CREATED_EVENTS = ("s3:ObjectCreated:*",)
# DeleteObject without a version id only adds a delete marker in a versioned bucket; no s3:DeleteObjectVersion,
# so what was deleted stays recoverable until the noncurrent-version lifecycle rule expires it.
BUCKET_DELETE_ACTIONS = ("s3:DeleteObject",)

# -- KMS -----------------------------------------------------------------------------------------
KEY_DECRYPT_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
# SSE-KMS uploads need a data key; multipart uploads also decrypt it again per part.
KEY_ENCRYPT_ACTIONS = ("kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey")
# What CloudWatch Logs needs on the key of an encrypted log group.
KEY_LOG_ENCRYPTION_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)
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

# -- IAM, Lambda, SQS, Step Functions, CloudWatch Logs -------------------------------------------
ASSUME_ROLE_ACTIONS = ("sts:AssumeRole",)
# What a GitHub Actions job does with its OIDC token (building_blocks/iam.py GitHubOidcRole).
ASSUME_ROLE_WITH_WEB_IDENTITY_ACTIONS = ("sts:AssumeRoleWithWebIdentity",)
LAMBDA_INVOKE_ACTIONS = ("lambda:InvokeFunction",)
QUEUE_SEND_ACTIONS = ("sqs:SendMessage",)
STATE_MACHINE_START_ACTIONS = ("states:StartExecution",)
# -- SNS -------------------------------------------------------------------------------------------
TOPIC_PUBLISH_ACTIONS = ("sns:Publish",)
# What the account (through its IAM policies) may do with a topic: an explicit list instead of `sns:*`.
TOPIC_OWNER_ACTIONS = (
    "sns:GetTopicAttributes",
    "sns:SetTopicAttributes",
    "sns:AddPermission",
    "sns:RemovePermission",
    "sns:DeleteTopic",
    "sns:Subscribe",
    "sns:ListSubscriptionsByTopic",
    "sns:Publish",
)
# A Distributed Map runs its items as child executions of its own state machine.
STATE_MACHINE_CHILD_EXECUTION_ACTIONS = ("states:DescribeExecution", "states:StopExecution")
# -- Service principals (who assumes a role or sends to a resource) --------------------------------
SCHEDULER_SERVICE = "scheduler.amazonaws.com"
EVENTS_SERVICE = "events.amazonaws.com"
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"

# -- CodeArtifact ----------------------------------------------------------------------------------
# What a domain's own principals may do with it (its permissions policy); repository access is the repository's.
DOMAIN_USE_ACTIONS = (
    "codeartifact:DescribeDomain",
    "codeartifact:GetAuthorizationToken",
    "codeartifact:ListRepositoriesInDomain",
)
# A domain policy's Deny for principals outside the account or organization (denying more is safe).
DENY_ALL_CODEARTIFACT_ACTIONS = ("codeartifact:*",)
# A login (make pip-login, aws codeartifact login) finds the domain's owner and gets a token (on the domain's ARN) ...
DOMAIN_LOGIN_ACTIONS = ("codeartifact:DescribeDomain", "codeartifact:GetAuthorizationToken")
# ... then use the repository (on the repository's ARN) ...
REPOSITORY_READ_ACTIONS = (
    "codeartifact:DescribeRepository",
    "codeartifact:GetRepositoryEndpoint",
    "codeartifact:ListPackages",
    "codeartifact:ReadFromRepository",
)
# ... and read its packages (on package ARNs).
PACKAGE_READ_ACTIONS = (
    "codeartifact:DescribePackage",
    "codeartifact:DescribePackageVersion",
    "codeartifact:GetPackageVersionAsset",
    "codeartifact:GetPackageVersionReadme",
    "codeartifact:ListPackageVersionAssets",
    "codeartifact:ListPackageVersionDependencies",
    "codeartifact:ListPackageVersions",
)
PACKAGE_PUBLISH_ACTIONS = ("codeartifact:PublishPackageVersion", "codeartifact:PutPackageMetadata")
# What changes the packages of a repository: denied to every principal but its publishers.
PACKAGE_CHANGE_ACTIONS = (
    *PACKAGE_PUBLISH_ACTIONS,
    "codeartifact:CopyPackageVersions",
    "codeartifact:DeletePackage",
    "codeartifact:DeletePackageVersions",
    "codeartifact:DisposePackageVersions",
    "codeartifact:PutPackageOriginConfiguration",
    "codeartifact:UpdatePackageVersionsStatus",
)

# -- SageMaker pipelines ---------------------------------------------------------------------------
PIPELINE_START_ACTIONS = ("sagemaker:StartPipelineExecution",)
# What a pipeline does with its role: start, watch and stop the jobs of its steps, tagging them with
# the execution (SageMaker adds sagemaker:pipeline-* tags).
PIPELINE_JOB_ACTIONS = (
    "sagemaker:CreateProcessingJob",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:StopProcessingJob",
    "sagemaker:CreateTrainingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:StopTrainingJob",
    "sagemaker:AddTags",
)
PASS_ROLE_ACTIONS = ("iam:PassRole",)
# What a sender needs on the key of an encrypted queue or topic (EventBridge rule dead letters, SNS publishers).
KEY_MESSAGE_SEND_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
# SageMaker jobs encrypt their ML storage volumes through a KMS grant made for them.
KEY_GRANT_ACTIONS = ("kms:CreateGrant",)
# SageMaker jobs write to the shared /aws/sagemaker/<kind>Jobs log groups, creating them on first use.
JOB_LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")
# A Lambda function writes its own log streams (scoped to its log group).
LOG_STREAM_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")

# -- Resource `*` only: AWS has no resource-level permissions for these --------------------------
# X-Ray ("Actions, resources, and condition keys for AWS X-Ray": no resource types for these).
LAMBDA_TRACING_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
STATE_MACHINE_TRACING_ACTIONS = (*LAMBDA_TRACING_ACTIONS, "xray:GetSamplingRules", "xray:GetSamplingTargets")
# Step Functions' CloudWatch Logs delivery (AWS docs: "Logging Step Functions using CloudWatch Logs",
# IAM policies for logging to CloudWatch Logs).
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
# CodeArtifact's GetAuthorizationToken needs a bearer token from STS, which has no resource to scope to (the
# grant conditions it on sts:AWSServiceName = codeartifact.amazonaws.com).
SERVICE_BEARER_TOKEN_ACTIONS = ("sts:GetServiceBearerToken",)
# KMS ("Actions, resources, and condition keys for AWS KMS"): CreateKey makes a key that has no ARN yet (the
# bootstrap's apply role conditions it on aws:RequestTag), ListAliases lists the account's aliases (Terraform's
# refresh of aws_kms_alias).
KEY_CREATE_ACTIONS = ("kms:CreateKey",)
ALIAS_LIST_ACTIONS = ("kms:ListAliases",)
WILDCARD_RESOURCE_ACTIONS = frozenset(
    (
        *STATE_MACHINE_TRACING_ACTIONS,
        *LOG_DELIVERY_ACTIONS,
        *SERVICE_BEARER_TOKEN_ACTIONS,
        *KEY_CREATE_ACTIONS,
        *ALIAS_LIST_ACTIONS,
    )
)
