"""`make demo`: deploy every local stack to the emulator, exercise it, explain what runs.

Steps: deploy (cdktf, streamed), then read the stacks' outputs, inspect each bucket in
the emulator, show that the candidate bucket's policy refuses an upload with the wrong encryption, run sample data
through the data pipeline (tooling/demo_data_pipeline.py), train a candidate model on what it
processed by firing the training schedule (tooling/demo_training.py), promote that candidate to
production (tooling/demo_promotion.py), score a batch with it through the inference workflow
(tooling/demo_inference.py), publish a package to the team CodeArtifact repository and install it back
(tooling/demo_dependencies.py), show the plan report a pull request gets, find a drift and apply it away
(tooling/demo_cicd.py), and print a summary a newcomer can follow. The emulator is left running
for exploration.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

import platform_config
from tooling import (
    aws_clients,
    demo_cicd,
    demo_data_pipeline,
    demo_dependencies,
    demo_inference,
    demo_promotion,
    demo_training,
    deploy,
    packages,
)


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str

    def __str__(self) -> str:
        return f"  {'PASS' if self.ok else 'FAIL'}  {self.text}"


def describe_bucket(s3: Any, name: str) -> str:
    """One line: encryption, versioning, public access, access-log target, as the emulator reports."""
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    default = rule["ApplyServerSideEncryptionByDefault"]
    encryption = (
        "SSE-KMS key " + default["KMSMasterKeyID"].rsplit("/", 1)[-1][:8] + "…"
        if default["SSEAlgorithm"] == "aws:kms"
        else "SSE-S3"
    )
    versioning = s3.get_bucket_versioning(Bucket=name).get("Status", "Disabled").lower()
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    public = "public access blocked" if all(block.values()) else "PUBLIC ACCESS NOT BLOCKED"
    target = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled", {}).get("TargetBucket")
    logs = f"access logs -> {target}" if target else "receives access logs"
    return f"{encryption}, versioning {versioning}, {public}, {logs}"


def refuses_other_encryption(s3: Any, bucket: str) -> Check:
    """The candidate bucket's policy refuses an upload asking for another encryption (nothing is written)."""
    try:
        s3.put_object(Bucket=bucket, Key="models/rogue/0.0.1/model.tar.gz", Body=b"x", ServerSideEncryption="AES256")
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        return Check(code == "AccessDenied", f"an upload asking for AES256 instead of KMS was refused ({code})")
    return Check(False, "an upload asking for AES256 was accepted; the bucket policy is not enforced")


def main() -> int:
    config = platform_config.load("local")
    print(f"Deploying every local stack to the emulator at {config.emulator_url} ...\n", flush=True)
    try:
        results = deploy.run("deploy", config)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    outputs = json.loads(deploy.outputs_file(config).read_text())
    store = outputs[config.stack_name("artifact-store")]
    s3 = aws_clients.client("s3", config)

    print("\n" + "=" * 78)
    print(f"ML platform: environment '{config.name}' on the local AWS emulator ({config.emulator_url})")
    print("=" * 78)
    print("\nStacks (Terraform, via cdktf deploy):")
    for result in results:
        print(f"  {result.stack:<28} {result.summary}")
    print("\nModel artifact store:")
    for role, output in (
        ("candidate", "candidate_model"),
        ("production", "production_model"),
        ("access logs", "access_log"),
    ):
        name = store[f"{output}_bucket_name"]
        print(f"  {role:<12} {name}")
        print(f"  {'':<12} {describe_bucket(s3, name)}")
    print("  Training publishes to candidate under models/<name>/<version>/; promotion copies an approved version")
    print("  to production and moves models/<name>/production.json, the pointer serving reads.")
    checks = [refuses_other_encryption(s3, store["candidate_model_bucket_name"])]
    try:
        pipeline_checks = demo_data_pipeline.tour(
            outputs[config.stack_name("data-pipeline")], s3, aws_clients.client("stepfunctions", config)
        )
    except TimeoutError as exc:
        pipeline_checks = [(False, str(exc))]
    checks += [Check(ok, text) for ok, text in pipeline_checks]
    candidate = None
    try:
        training_checks, candidate = demo_training.tour(
            config, s3, aws_clients.client("sagemaker", config), candidate_key_arn=store["candidate_model_key_arn"]
        )
    except (TimeoutError, LookupError) as exc:
        training_checks = [(False, str(exc))]
    checks += [Check(ok, text) for ok, text in training_checks]
    if candidate is None:
        checks.append(Check(False, "no candidate was published, so nothing was promoted"))
    else:
        model = candidate.manifest["model"]
        promotion_checks = demo_promotion.tour(config, s3, model["name"], model["version"])
        checks += [Check(ok, text) for ok, text in promotion_checks]
        if all(ok for ok, _ in promotion_checks):
            try:
                inference_checks = demo_inference.tour(
                    config, s3, aws_clients.client("stepfunctions", config), outputs[config.stack_name("inference")]
                )
            except (TimeoutError, LookupError) as exc:
                inference_checks = [(False, str(exc))]
            checks += [Check(ok, text) for ok, text in inference_checks]
        else:
            checks.append(Check(False, "the candidate was not promoted, so inference did not run"))
    try:
        dependency_checks = demo_dependencies.tour(config, aws_clients.client("codeartifact", config))
    except (packages.PackagesError, ClientError) as exc:
        dependency_checks = [(False, str(exc))]
    checks += [Check(ok, text) for ok, text in dependency_checks]
    try:
        cicd_checks = demo_cicd.tour(config, s3, outputs[config.stack_name("data-pipeline")]["raw_data_bucket_name"])
    except (RuntimeError, ClientError) as exc:  # stack_plan.TerraformError, apply_plans.ApplyError
        cicd_checks = [(False, str(exc))]
    checks += [Check(ok, text) for ok, text in cicd_checks]
    print("\nChecks against the running emulator:")
    for check in checks:
        print(check)
    print("\nNext steps:")
    print("  make demo            run again: Terraform reports no changes")
    print("  make backfill PREFIX=incoming/churn/   reprocess what is in the raw bucket (works again at once)")
    print("  make train           fire the training schedule again and follow the pipeline step by step")
    print("  make promote MODEL=churn VERSION=<version>   promote another candidate (asks first; YES=1 does not)")
    print("  make rollback MODEL=churn   put the previous production version back; make promotions: the history")
    print('  make sample-data ARGS="--rows 5000 --unlabeled --out batch.csv"; make infer INPUT=batch.csv')
    print("                       score your own batch with the production model (the workflow above)")
    print("  make pip-login; source .state/local/pip.env   pip, pipenv and twine use the team repository")
    print("  make plan            the plan report a pull request gets as its comment (make apply: apply those plans)")
    print('  eval "$(make env)"; npx cdktf diff local-data-pipeline   cdktf by hand (README: Using cdktf directly)')
    print("  make test            the test suite (unit, emulator, checkov, integration)")
    print("  tail -f .emulator/emulator.log   what the emulator and the Lambda handlers log")
    print("  make emulator-stop   stop the emulator (its data is in memory and goes with it)")
    return 0 if all(check.ok for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
