"""The CI/CD part of `make demo`: the plan report a pull request gets, a drift found and put right.

1. `make plan`'s report of the deployed local stacks (tooling.plan_report): every stack planned in dependency order,
   checkov alongside; right after a deploy nothing changes. The Markdown, as the pull-request comment would show it,
   is written to `.state/local/plan-report.md`.
2. Drift: a tag is added to the raw bucket behind Terraform's back (as a console click would); the next plan, what
   the nightly drift check runs, shows exactly that change in the data-pipeline stack.
3. `make apply` (tooling.apply_plans) applies the saved plans, planning the stacks that depend on it again, and
   the tag is gone.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from platform_config import EnvironmentConfig
from tooling import apply_plans, plan_markdown, plan_report
from tooling.plan_report import shown_path

DRIFT_TAG = {"Key": "changed-by", "Value": "console"}


def tour(
    config: EnvironmentConfig,
    s3: Any,
    raw_bucket: str,
    *,
    outdir: Path = plan_report.DEFAULT_OUTDIR,
    emit: Callable[[str], None] = print,
) -> list[tuple[bool, str]]:
    """Plan, drift, plan, apply; checks of what each step showed. `outdir` holds the deploy's synthesized stacks."""
    emit("\nCI/CD (make plan: what a pull request's plan comment shows; make apply: what the deploy on merge runs):")
    clean = plan_report.plan_environment(config, outdir, synthesize=False, progress=io.StringIO())
    assert config.local_state_dir is not None
    markdown = config.local_state_dir / "plan-report.md"
    markdown.write_text(plan_markdown.render([clean], context=""), encoding="utf-8")
    for stack in clean.stacks:
        emit(f"  {stack.stack:<28} {stack.summary()}")
    checkov = f"{clean.checkov.passed} passed, {len(clean.checkov.failed)} failed"
    emit(f"  checkov: {checkov}; the report as a pull request would show it: {shown_path(markdown)}")
    checks = [
        (
            not clean.has_changes and not clean.failed,
            f"the plan report of the deployed stacks shows no changes in {len(clean.stacks)} stacks, "
            f"and checkov {len(clean.checkov.failed)} failed checks",
        )
    ]

    tags = s3.get_bucket_tagging(Bucket=raw_bucket)["TagSet"]
    s3.put_bucket_tagging(Bucket=raw_bucket, Tagging={"TagSet": [*tags, DRIFT_TAG]})
    emit(f"  drift: tagged {raw_bucket} {DRIFT_TAG['Key']}={DRIFT_TAG['Value']} outside Terraform; planning again")
    drifted = plan_report.plan_environment(config, outdir, synthesize=False, progress=io.StringIO())
    changed = [stack for stack in drifted.stacks if stack.has_changes]
    lines = [
        f"{stack.stack}: {change.verb} {change.address} {attribute.path}: {attribute.before} → {attribute.after}"
        for stack in changed
        for change in stack.changes
        for attribute in change.attributes
        if DRIFT_TAG["Key"] in attribute.path
    ]
    for line in lines:
        emit(f"  {line}")
    pipeline = config.stack_name("data-pipeline")
    checks.append(
        (
            [stack.stack for stack in changed] == [pipeline] and len(lines) >= 1,
            f"the drift check found the tag added outside Terraform, in {pipeline} only",
        )
    )

    applied = apply_plans.apply_environment(config, outdir, stream=io.StringIO())
    for item in applied:
        note = " (planned again: a dependency changed)" if item.replanned else ""
        emit(f"  apply {item.stack:<22} {item.result}{note}")
    remaining = {tag["Key"] for tag in s3.get_bucket_tagging(Bucket=raw_bucket)["TagSet"]}
    checks.append(
        (
            DRIFT_TAG["Key"] not in remaining and [item.stack for item in applied if item.changed] == [pipeline],
            f"applying the saved plans put {raw_bucket} back as the code says (only {pipeline} changed)",
        )
    )
    return checks
