"""The plan report on real plans: Terraform plans small stacks against the emulator, tooling.plan_report reads
them, tooling.plan_markdown renders them.

One module fixture builds an "environment" of four stacks in a cdktf-like outdir (manifest.json,
stacks/<name>/cdk.tf.json) and plans it with `plan_environment`, as `make plan` and the PR workflow do:
- `t-changes` was applied, then changed: a bucket renamed (replace, stateful), a log group removed (destroy,
  stateful), another's tag changed (update in place), a queue and a sensitive value added (create);
- `t-same` was applied and is unchanged (no changes);
- `t-broken` reads a bucket that does not exist (the error), and depends on `t-changes`;
- `t-big` creates 400 queues with long tags: a plan whose details need shortening to fit a PR comment.
"""

from __future__ import annotations

import io
import json
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import platform_config
from emulator import EmulatorServer
from stacks.provider import EMULATED_SERVICES
from tooling import plan_markdown, stack_plan
from tooling.plan_diff import SENSITIVE
from tooling.plan_report import EnvironmentReport, StackReport, plan_environment

SECRET = "s3cr3t-value-never-shown"


def provider(url: str) -> dict[str, Any]:
    """The emulator provider block stacks/provider.py synthesizes for `local`, in Terraform JSON."""
    return {
        "aws": [
            {
                "region": "us-east-1",
                "access_key": "test",
                "secret_key": "test",
                "s3_use_path_style": True,
                "skip_credentials_validation": True,
                "skip_metadata_api_check": "true",
                "skip_region_validation": True,
                "max_retries": 2,
                "endpoints": [{service.rstrip("_"): url for service in EMULATED_SERVICES}],
                "default_tags": [{"tags": {"project": "plan-report-test"}}],
            }
        ]
    }


def write_stack(
    outdir: Path, name: str, url: str, resources: dict[str, Any], data: dict[str, Any] | None = None
) -> Path:
    directory = outdir / "stacks" / name
    directory.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}},
        "provider": provider(url),
        "resource": resources,
    }
    if data:
        document["data"] = data
    (directory / "cdk.tf.json").write_text(json.dumps(document, indent=1))
    return directory


def apply(directory: Path, environment: dict[str, str]) -> None:
    for command in (["init", "-input=false", "-no-color"], ["apply", "-auto-approve", "-input=false", "-no-color"]):
        result = subprocess.run(
            ["terraform", *command], cwd=directory, env=environment, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def log_group(name: str, **tags: str) -> dict[str, Any]:
    return {"name": f"/plan-report/{name}", "retention_in_days": 7, "tags": tags}


def queue(name: str, **tags: str) -> dict[str, Any]:
    return {"name": name, "sqs_managed_sse_enabled": True, "tags": tags}


@pytest.fixture(scope="module")
def planned(emulator_server: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvironmentReport]:
    outdir = tmp_path_factory.mktemp("plan-report")
    url, uid = emulator_server.url, uuid.uuid4().hex[:10]
    config = platform_config.load("local", environ={})
    environment = stack_plan.terraform_environment(config)

    # Resources the provider creates at once against the emulator (an SQS queue waits ~20 s for its attributes).
    before = {
        "aws_s3_bucket": {"data": {"bucket": f"plan-old-{uid}"}},
        "aws_cloudwatch_log_group": {"audit": log_group(f"audit-{uid}"), "work": log_group(f"work-{uid}", team="a")},
    }
    same = {"aws_cloudwatch_log_group": {"same": log_group(f"same-{uid}", team="a")}}
    stacks = [write_stack(outdir, "t-changes", url, before), write_stack(outdir, "t-same", url, same)]
    with ThreadPoolExecutor() as pool:
        list(pool.map(lambda directory: apply(directory, environment), stacks))

    after = {
        "aws_s3_bucket": {"data": {"bucket": f"plan-new-{uid}"}},
        "aws_cloudwatch_log_group": {"work": log_group(f"work-{uid}", team="b")},
        "aws_sqs_queue": {"extra": queue(f"extra-{uid}")},
        "terraform_data": {"token": {"input": f'${{sensitive("{SECRET}")}}'}},
    }
    write_stack(outdir, "t-changes", url, after)
    write_stack(
        outdir,
        "t-broken",
        url,
        {"aws_sqs_queue": {"uses": queue(f"uses-{uid}", bucket="${data.aws_s3_bucket.missing.arn}")}},
        data={"aws_s3_bucket": {"missing": {"bucket": f"no-such-bucket-{uid}"}}},
    )
    many = {
        f"q{index:03d}": queue(f"big-{index:03d}-{uid}", purpose="x" * 200, owner=f"team-{index}")
        for index in range(400)
    }
    write_stack(outdir, "t-big", url, {"aws_sqs_queue": many})
    manifest = {
        "stacks": {
            "t-changes": {"dependencies": []},
            "t-same": {"dependencies": []},
            "t-broken": {"dependencies": ["t-changes"]},
            "t-big": {"dependencies": []},
        }
    }
    (outdir / "manifest.json").write_text(json.dumps(manifest))
    yield plan_environment(config, outdir, synthesize=False, progress=io.StringIO())


def stack(report: EnvironmentReport, name: str) -> StackReport:
    return next(item for item in report.stacks if item.stack == name)


def test_each_stack_is_counted_as_terraform_plans_it(planned: EnvironmentReport) -> None:
    changes = stack(planned, "t-changes")
    assert changes.counts == {"create": 2, "update": 1, "destroy": 1, "replace": 1}
    verbs = {change.address: change.verb for change in changes.changes}
    assert verbs == {
        "aws_s3_bucket.data": "replace",
        "aws_cloudwatch_log_group.audit": "destroy",
        "aws_cloudwatch_log_group.work": "update",
        "aws_sqs_queue.extra": "create",
        "terraform_data.token": "create",
    }
    assert stack(planned, "t-same").summary() == "no changes"
    assert stack(planned, "t-big").counts == {"create": 400, "update": 0, "destroy": 0, "replace": 0}
    # Dependencies first, independent stacks in name order (cdktf's manifest).
    assert [item.stack for item in planned.stacks] == ["t-big", "t-changes", "t-same", "t-broken"]


def test_an_update_shows_the_changed_attribute_and_a_replacement_what_forces_it(planned: EnvironmentReport) -> None:
    changes = {change.address: change for change in stack(planned, "t-changes").changes}
    work = changes["aws_cloudwatch_log_group.work"]
    tags = [(a.path, a.before, a.after) for a in work.attributes if a.path.startswith("tags.")]
    assert tags == [("tags.team", '"a"', '"b"')]
    bucket = changes["aws_s3_bucket.data"]
    assert bucket.replaced_by == ("bucket",)
    [(old, new)] = [(a.before, a.after) for a in bucket.attributes if a.path == "bucket"]
    assert old.startswith('"plan-old-') and new.startswith('"plan-new-')


def test_a_sensitive_value_is_masked_in_the_report_and_in_the_markdown(planned: EnvironmentReport) -> None:
    token = next(change for change in stack(planned, "t-changes").changes if change.address == "terraform_data.token")
    assert [(a.path, a.after) for a in token.attributes if a.path == "input"] == [("input", SENSITIVE)]
    assert SECRET not in planned.to_json()
    assert SECRET not in plan_markdown.render([planned], limit=plan_markdown.SUMMARY_LIMIT, context="")


def test_destroying_or_replacing_stateful_resources_is_warned_about(planned: EnvironmentReport) -> None:
    lossy = [(item.stack, change.address) for item, change in planned.lossy_changes()]
    assert lossy == [("t-changes", "aws_cloudwatch_log_group.audit"), ("t-changes", "aws_s3_bucket.data")]
    text = plan_markdown.render([planned], context="")
    caution = text[text.index("> [!CAUTION]") : text.index("### ")]
    assert "**2 stateful resources would be destroyed or replaced.**" in caution
    assert (
        "**replace** `aws_s3_bucket.data`, forced by `bucket`: loses every object and object version in it" in caution
    )
    assert "**destroy** `aws_cloudwatch_log_group.audit`: loses its log history" in caution


def test_a_failed_plan_shows_terraforms_error_and_its_dependency_note(planned: EnvironmentReport) -> None:
    broken = stack(planned, "t-broken")
    assert broken.failed and broken.waits_on == ("t-changes",)
    assert broken.error.startswith("Error: ")
    assert "no-such-bucket" in broken.error
    text = plan_markdown.render([planned], context="")
    assert f"| `t-broken` | | | | | ❌ {broken.error.splitlines()[0].replace('|', chr(92) + '|')} |" in text
    assert "**`t-broken` failed to plan:**" in text
    assert planned.failed


def test_the_summary_table_has_a_row_per_stack_with_its_counts(planned: EnvironmentReport) -> None:
    text = plan_markdown.render([planned], context="")
    assert "### `local`: 2 of 4 stacks change, 1 failed to plan" in text
    assert "| `t-changes` | 2 | 1 | 1 | 1 | ⚠️ loses data (2 stateful) |" in text
    assert "| `t-same` | | | | | no changes |" in text
    assert "| `t-big` | 400 | 0 | 0 | 0 | changes |" in text
    assert "checkov: ❌" in text  # the test stacks' buckets have no encryption, logging, ...


def test_a_large_plan_is_shortened_to_the_comment_limit_keeping_summary_and_warnings(
    planned: EnvironmentReport,
) -> None:
    full = plan_markdown.render([planned], limit=plan_markdown.SUMMARY_LIMIT, context="")
    assert len(full) > 65_536
    comment = plan_markdown.render([planned], context="")
    assert len(comment) <= plan_markdown.COMMENT_LIMIT < 65_536
    head = full[: full.index("<details>")]
    assert comment.startswith(head)  # summary tables, errors, warnings, checkov: all of it, unchanged
    # Shortened details still list every resource of the big stack.
    assert all(f"+ aws_sqs_queue.q{index:03d} (create)" in comment for index in range(400))


def test_when_even_resource_lines_do_not_fit_whole_stacks_details_are_left_out_with_a_note(
    planned: EnvironmentReport,
) -> None:
    full = plan_markdown.render([planned], limit=plan_markdown.SUMMARY_LIMIT, context="")
    head = full[: full.index("<details>")]
    text = plan_markdown.render([planned], limit=len(head) + 3_000, context="")
    assert len(text) <= len(head) + 3_000
    assert text.startswith(head)
    assert "The details of `t-big` are left out to fit GitHub's comment limit" in text
    assert "<code>t-changes</code>: 2 to add, 1 to change, 1 to destroy, 1 to replace" in text


def test_two_environments_render_as_one_comment_and_reports_survive_json(planned: EnvironmentReport) -> None:
    again = EnvironmentReport.from_json(planned.to_json())
    assert again == planned
    prod = EnvironmentReport("prod", (stack(planned, "t-same"),), planned.checkov)
    text = plan_markdown.render([planned, prod], context="Commit `abc1234`")
    assert text.startswith("## Terraform plan: `local`, `prod`\n\nCommit `abc1234`\n")
    assert text.index("### `local`") < text.index("### `prod`: 0 of 1 stacks change")
