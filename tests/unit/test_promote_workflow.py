"""The promotion workflow (.github/workflows/promote-model.yml) as the house rules and the promotion CLI need it:
its trigger, job graph, environments, permissions and concurrency, no expression in scripts, and every command it
runs parsed by the CLI it names (so the YAML cannot drift from promotion/). Rules of every workflow (pinning, lint)
are in test_ci_workflows.py and `make lint`."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest

import platform_config
from promotion import cli, record_commit
from promotion import record as records
from tests import workflow_support
from tests.workflow_support import REPO, WORKFLOWS, uses

PROMOTE = WORKFLOWS / "promote-model.yml"
# Variables a runner sets for every step (https://docs.github.com/actions/reference/variables-reference).
RUNNER_VARIABLES = {"GITHUB_STEP_SUMMARY"}


def workflow() -> dict[str, Any]:
    return workflow_support.workflow(PROMOTE)


def jobs() -> dict[str, dict[str, Any]]:
    return workflow()["jobs"]


def steps(job: str) -> list[dict[str, Any]]:
    return jobs()[job]["steps"]


def runs(job: str) -> list[str]:
    return [step["run"] for step in steps(job) if "run" in step]


def commands(job: str) -> Iterator[tuple[str, list[str]]]:
    """(module, arguments) of each `python -m <module> ...` line of `job`."""
    return workflow_support.python_commands(jobs()[job])


def test_it_is_started_by_hand_with_a_model_a_version_and_a_reason() -> None:
    trigger = workflow()["on"]
    assert list(trigger) == ["workflow_dispatch"]
    inputs = trigger["workflow_dispatch"]["inputs"]
    assert list(inputs) == ["model", "version", "reason"]
    for name, spec in inputs.items():
        assert spec["required"] is True, name
        assert spec["type"] == "string", name
        assert spec["description"], name


def test_jobs_run_validate_then_plan_then_promote() -> None:
    assert list(jobs()) == ["validate", "plan", "promote"]
    assert "needs" not in jobs()["validate"]
    assert jobs()["plan"]["needs"] == "validate"
    assert jobs()["promote"]["needs"] == "plan"


def test_only_the_promote_job_waits_for_the_production_environment() -> None:
    environments = {name: job.get("environment") for name, job in jobs().items()}
    assert environments == {"validate": None, "plan": None, "promote": record_commit.GITHUB_ENVIRONMENT}
    assert record_commit.GITHUB_ENVIRONMENT == "production"


def test_permissions_are_none_by_default_and_each_job_asks_for_what_it_uses() -> None:
    assert workflow()["permissions"] == {}
    assert {name: job["permissions"] for name, job in jobs().items()} == {
        "validate": {"contents": "read", "id-token": "write"},
        "plan": {"contents": "read", "id-token": "write"},
        "promote": {"contents": "write", "id-token": "write", "actions": "read"},
    }


def test_an_oidc_token_only_where_a_job_assumes_an_aws_role() -> None:
    for name, job in jobs().items():
        assumes_role = any(uses(step) == "aws-actions/configure-aws-credentials" for step in job["steps"])
        assert (job["permissions"].get("id-token") == "write") == assumes_role, name


def test_validate_and_plan_use_the_read_only_role_and_promote_the_promotion_role() -> None:
    roles = {
        name: [step["with"]["role-to-assume"] for step in steps(name) if "role-to-assume" in step.get("with", {})]
        for name in jobs()
    }
    assert roles == {
        "validate": ["${{ vars.AWS_PLAN_ROLE_ARN_PROD }}"],
        "plan": ["${{ vars.AWS_PLAN_ROLE_ARN_PROD }}"],
        "promote": ["${{ vars.AWS_PROMOTION_ROLE_ARN }}"],
    }


def test_the_aws_region_is_prods() -> None:
    assert workflow()["env"]["AWS_REGION"] == platform_config.load("prod", environ={}).region
    assert workflow()["env"]["ENV"] == "prod"


def test_it_shares_the_deploy_prod_group_and_never_cancels_a_running_promotion() -> None:
    """Only the promote job holds the group: validate and plan, and the wait for the reviewers, block no deploy."""
    assert "concurrency" not in workflow()
    concurrency = {name: job.get("concurrency") for name, job in jobs().items()}
    assert concurrency == {
        "validate": None,
        "plan": None,
        "promote": {"group": "deploy-prod", "cancel-in-progress": False},
    }


def test_every_job_has_a_timeout() -> None:
    for name, job in jobs().items():
        assert 0 < job["timeout-minutes"] <= 60, name


def test_every_job_sets_up_as_ci_does_before_its_credentials() -> None:
    test_job = workflow_support.workflow(WORKFLOWS / "pr.yml")["jobs"]["test"]
    expected = [
        {key: value for key, value in step.items() if key != "with" or uses(step) != "actions/checkout"}
        for step in test_job["steps"][1:4]
    ]
    for name in jobs():
        checkout, *setup = steps(name)[:5]
        assert uses(checkout) == "actions/checkout"
        assert checkout["with"]["persist-credentials"] is False, name
        assert setup[:3] == expected, name
        assert setup[3] == {"name": "make setup", "run": "make setup"}, name
        credentials = next(
            i for i, step in enumerate(steps(name)) if uses(step) == "aws-actions/configure-aws-credentials"
        )
        assert credentials > 4, f"{name}: AWS credentials before the installs"
    assert steps("promote")[0]["with"]["ref"] == "main"


def test_no_expression_is_expanded_into_a_script() -> None:
    for name in jobs():
        for script in runs(name):
            assert "${{" not in script, f"{name}: {script}"


def test_inputs_reach_scripts_through_env_only() -> None:
    env = workflow()["env"]
    assert {env[name] for name in ("MODEL", "VERSION", "REASON")} == {
        "${{ inputs.model }}",
        "${{ inputs.version }}",
        "${{ inputs.reason }}",
    }
    defined = set(env) | RUNNER_VARIABLES
    for name in jobs():
        for step in steps(name):
            for variable in re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", step.get("run", "")):
                assert variable in defined | set(step.get("env", {})), f"{name}: ${variable} is not set"


def test_each_job_runs_the_promotion_steps_the_cli_has() -> None:
    used = {
        name: [(module, arguments[0] if module == "promotion" else "") for module, arguments in commands(name)]
        for name in jobs()
    }
    assert used == {
        "validate": [("promotion", "check")],
        "plan": [("promotion", "stage"), ("promotion", "plan")],
        "promote": [
            ("promotion.record_commit", ""),
            ("promotion", "apply"),
            ("promotion", "verify"),
            ("promotion.record_commit", ""),
        ],
    }
    subcommands = cli.parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {sub for job in used.values() for module, sub in job if module == "promotion"} <= set(subcommands)


@pytest.mark.parametrize("job", ["validate", "plan", "promote"])
def test_every_command_line_parses_with_its_cli(job: str) -> None:
    """With inputs that start with a dash: `--` and `--option=value` keep each one a value (check refuses the name
    later, with its own message), never an option."""
    values = {"MODEL": "-h", "VERSION": "1.0.3", "REASON": "-x retrain", "GITHUB_STEP_SUMMARY": "summary.md"}
    for module, arguments in commands(job):
        argv = [re.sub(r"\$(\w+)", lambda match: values[match[1]], argument) for argument in arguments]
        parser = {"promotion": cli.parser, "promotion.record_commit": record_commit.parser}[module]()
        parsed = parser.parse_args(argv)
        for field in ("model", "version", "reason"):
            if hasattr(parsed, field):
                assert getattr(parsed, field) == values[field.upper()], (module, argv)


def test_the_plan_job_uploads_the_planned_stack_and_the_staged_record_for_a_week_at_most() -> None:
    prod = platform_config.load("prod", environ={})
    stack_dir = f"cdktf.out/stacks/{prod.stack_name(cli.STACK)}/"
    record = records.record_path("prod").relative_to(REPO).as_posix()
    (upload,) = [step for step in steps("plan") if uses(step) == "actions/upload-artifact"]
    assert upload["with"]["path"].split() == [stack_dir, f"!{stack_dir}.terraform/", record]
    assert upload["with"]["include-hidden-files"] is True  # the stack's .terraform.lock.hcl
    assert upload["with"]["if-no-files-found"] == "error"
    assert 1 <= upload["with"]["retention-days"] <= 7
    assert record == record_commit.DEFAULT_RECORD.as_posix()
    assert steps("plan")[-1] is upload


def test_promote_applies_what_was_uploaded_and_records_it_last() -> None:
    order = [uses(step) or shlex.split(step["run"])[2:4] for step in steps("promote")[5:]]
    assert order == [
        "actions/download-artifact",
        "actions/create-github-app-token",
        ["promotion.record_commit", "--model=$MODEL"],
        "actions/upload-artifact",  # the reviewed record, before production changes
        "aws-actions/configure-aws-credentials",
        ["promotion", "apply"],
        ["promotion", "verify"],
        ["promotion.record_commit", "--model=$MODEL"],
    ]
    (download,) = [step for step in steps("promote") if uses(step) == "actions/download-artifact"]
    (upload,) = [step for step in steps("plan") if uses(step) == "actions/upload-artifact"]
    assert download["with"] == {"name": upload["with"]["name"]}  # into the workspace, the paths it came from
    before_apply, after_verify = [step for step in steps("promote") if "record_commit" in step.get("run", "")]
    assert before_apply["run"].endswith(" --no-push")
    assert "--no-push" not in after_verify["run"]
    for step in (before_apply, after_verify):
        assert step["env"] == {"GITHUB_TOKEN": "${{ steps.app-token.outputs.token || github.token }}"}
    (app_token,) = [step for step in steps("promote") if uses(step) == "actions/create-github-app-token"]
    assert app_token["if"] == "vars.PROMOTION_APP_ID != ''"  # optional: github.token when no App is configured
    assert app_token["id"] == "app-token"
