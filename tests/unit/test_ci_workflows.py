"""The CI/CD workflows (.github/workflows/): pr.yml plans pull requests and comments, deploy.yml applies main, drift.yml
watches for drift. Their triggers, job graphs, permissions, environments, concurrency and roles, the rules every
workflow follows (pinned actions, no expression in a script, OIDC only where AWS is used), and every Python command
they run parsed by the module it names, so the YAML cannot drift from tooling/. `make lint` runs actionlint,
zizmor and checkov over them; the last test shows that lint fails on what the rules forbid."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path
from typing import Any

import pytest

import platform_config
from tests.workflow_support import PINNED, WORKFLOWS, every_workflow, python_commands, uses, workflow
from tooling import lint_workflows
from tooling.bootstrap import APPLY_ROLE_VARIABLE, plan_role_variable

PR = WORKFLOWS / "pr.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
DEPLOY_ENVIRONMENT = WORKFLOWS / "deploy-environment.yml"
DRIFT = WORKFLOWS / "drift.yml"
PROMOTE = WORKFLOWS / "promote-model.yml"
CREDENTIALS = "aws-actions/configure-aws-credentials"


def jobs(path: Path) -> dict[str, dict[str, Any]]:
    return workflow(path)["jobs"]


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    (step,) = [step for step in job["steps"] if uses(step) == action]
    return step


def region(environment: str) -> str:
    return platform_config.load(environment, environ={}).region


# -- every workflow --------------------------------------------------------------------------------------------


def test_every_workflow_grants_nothing_at_the_top_and_each_job_what_it_uses() -> None:
    for path in every_workflow():
        assert workflow(path)["permissions"] == {}, path.name
        for name, job in workflow(path)["jobs"].items():
            assert "permissions" in job, f"{path.name} {name}"
            assert set(job["permissions"].values()) <= {"read", "write"}, f"{path.name} {name}"


def test_an_oidc_token_only_where_a_job_assumes_an_aws_role() -> None:
    for path in every_workflow():
        for name, job in workflow(path)["jobs"].items():
            if "uses" in job:  # a reusable workflow: its own job is checked in its file
                continue
            assumes_role = any(uses(step) == CREDENTIALS for step in job["steps"])
            assert (job["permissions"].get("id-token") == "write") == assumes_role, f"{path.name} {name}"


def test_every_action_is_pinned_to_a_commit_with_its_version_once() -> None:
    shas: dict[str, set[str]] = {}
    for path in every_workflow():
        for line in path.read_text().splitlines():
            if re.match(r"^\s*(?:- )?uses: [\w-]+/", line):
                pinned = PINNED.match(line)
                assert pinned, f"{path.name}: {line.strip()} is not pinned as `uses: owner/repo@<40 hex> # vX.Y.Z`"
                shas.setdefault(pinned["action"], set()).add(pinned["sha"])
    assert {action: len(pins) for action, pins in shas.items() if len(pins) > 1} == {}, "one pin per action"
    assert {"actions/checkout", CREDENTIALS, "actions/upload-artifact"} <= set(shas)


# The first major release of each action that runs on Node 24: GitHub's runners have dropped Node 20
# (github.blog/changelog/2025-09-19-deprecation-of-node-20-on-github-actions-runners), and an action pinned to a
# Node 20 release no longer starts. actionlint knows this only for tags like @v4, not for a pinned commit.
NODE24_MAJOR = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/setup-node": 5,
    "hashicorp/setup-terraform": 4,
    CREDENTIALS: 5,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 7,
    "actions/create-github-app-token": 3,
}


def test_every_action_is_pinned_to_a_release_that_runs_on_node_24() -> None:
    for path in every_workflow():
        for line in path.read_text().splitlines():
            if pinned := PINNED.match(line):
                major = int(re.search(r"# v(\d+)", line)[1])  # type: ignore[index]
                assert pinned["action"] in NODE24_MAJOR, f"{path.name}: add {pinned['action']} to NODE24_MAJOR"
                assert major >= NODE24_MAJOR[pinned["action"]], f"{path.name}: {line.strip()} runs on Node 20"


def test_no_expression_is_expanded_into_a_script_and_checkouts_keep_no_token() -> None:
    for path in every_workflow():
        for name, job in workflow(path)["jobs"].items():
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), f"{path.name} {name}: {step['run']}"
                if uses(step) == "actions/checkout":
                    assert step["with"]["persist-credentials"] is False, f"{path.name} {name}"


def test_every_job_has_a_timeout() -> None:
    for path in every_workflow():
        for name, job in workflow(path)["jobs"].items():
            if "uses" not in job:
                assert 0 < job["timeout-minutes"] <= 60, f"{path.name} {name}"


class Parsed(Exception):
    """Raised in place of running a command once argparse has accepted its arguments."""


@pytest.mark.parametrize("path", [PR, DEPLOY_ENVIRONMENT, DRIFT], ids=lambda path: path.name)
def test_every_python_command_parses_with_the_module_it_names(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self: argparse.ArgumentParser, args: Any = None, namespace: Any = None) -> Any:
        raise Parsed(original(self, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    values = {"GITHUB_STEP_SUMMARY": "summary.md", "GITHUB_ENV": "env.txt", "ENVIRONMENT": "dev"}
    # The project's own commands (not e.g. `python -m pip install`, which must never run here).
    commands = [
        command for job in jobs(path).values() for command in python_commands(job) if command[0].startswith("tooling.")
    ]
    assert commands, path.name
    for module, arguments in commands:
        argv = [re.sub(r"\$(\w+)", lambda match: values[match[1]], argument) for argument in arguments]
        with pytest.raises(Parsed):
            importlib.import_module(module).main(argv)


# -- pr.yml ----------------------------------------------------------------------------------------------------


def test_pull_requests_run_tests_and_plans_then_one_comment() -> None:
    assert workflow(PR)["on"] == {"pull_request": None}
    assert list(jobs(PR)) == ["test", "install-through-codeartifact", "plan", "comment"]
    assert jobs(PR)["comment"]["needs"] == "plan"
    # A new push cancels the checks of the previous one (plans only read).
    assert workflow(PR)["concurrency"] == {
        "group": "pull-request-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }


def test_make_test_needs_no_aws_access() -> None:
    job = jobs(PR)["test"]
    assert job["permissions"] == {"contents": "read"}
    assert not [step for step in job["steps"] if uses(step) == CREDENTIALS]
    assert job["steps"][-1] == {"name": "make test", "run": "bash .ci/run"}


def test_codeartifact_install_runs_only_when_configured_and_logs_in_before_make_setup() -> None:
    job = jobs(PR)["install-through-codeartifact"]
    assert job["if"] == (
        "vars.CODEARTIFACT_READER_ROLE_ARN != '' && github.event.pull_request.head.repo.full_name == github.repository"
    )  # forks' pull requests get no OIDC token
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert job["env"] == {"ENV": "dev", "AWS_REGION": region("dev")}
    steps = job["steps"]
    credentials = step_using(job, CREDENTIALS)
    assert credentials["with"]["role-to-assume"] == "${{ vars.CODEARTIFACT_READER_ROLE_ARN }}"
    scripts = [step.get("run", "") for step in steps]
    login = scripts.index('python -m tooling.pip_login --github-env "$GITHUB_ENV"')
    # Credentials first, then the login hands pip and pipenv the index, then the installs go through it.
    assert steps.index(credentials) < login < scripts.index("make setup") == len(steps) - 1


def test_dev_and_prod_are_planned_with_their_read_only_role_after_the_installs() -> None:
    job = jobs(PR)["plan"]
    matrix = job["strategy"]["matrix"]["include"]
    assert job["strategy"]["fail-fast"] is False
    assert [entry["environment"] for entry in matrix] == ["dev", "prod"]
    for entry in matrix:
        assert entry["region"] == region(entry["environment"])
        assert entry["plan-role"] == f"${{{{ vars.{plan_role_variable(entry['environment'])} }}}}"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert job["env"] == {"ENV": "${{ matrix.environment }}"}
    # Skipped for forks (no OIDC token) and before the bootstrap set the role variables.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert all(f"vars.{plan_role_variable(env)} != ''" in job["if"] for env in ("dev", "prod"))
    steps = job["steps"]
    credentials = step_using(job, CREDENTIALS)
    assert credentials["with"]["role-to-assume"] == "${{ matrix.plan-role }}"
    assert steps.index({"name": "make setup", "run": "make setup"}) < steps.index(credentials)
    assert [(module, args[0]) for module, args in python_commands(job)] == [("tooling.plan_report", "plan")]


def test_reports_and_in_private_repositories_plans_are_uploaded_for_a_few_days_even_when_a_plan_failed() -> None:
    report, plans = [step for step in jobs(PR)["plan"]["steps"] if uses(step) == "actions/upload-artifact"]
    assert report["if"] == "${{ !cancelled() }}"
    assert report["with"]["name"] == "plan-${{ matrix.environment }}"
    assert report["with"]["path"] == "cdktf.out/plan-report-*.json"
    # A saved plan holds state values in clear: never an artifact of a public repository.
    assert plans["if"] == "${{ !cancelled() && github.event.repository.private }}"
    assert plans["with"]["path"].split() == ["cdktf.out/manifest.json", "cdktf.out/stacks/*/plan.tfplan"]
    for upload in (report, plans):
        assert 1 <= upload["with"]["retention-days"] <= 3


def test_the_comment_job_posts_both_reports_as_one_comment_without_aws_or_installs() -> None:
    job = jobs(PR)["comment"]
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert job["if"] == "${{ !cancelled() && needs.plan.result != 'skipped' }}"  # failed plans are shown too
    assert not [step for step in job["steps"] if step.get("run") == "make setup"]
    download = step_using(job, "actions/download-artifact")
    assert download["with"] == {"pattern": "plan-*", "path": "plans"}
    assert download["continue-on-error"] is True
    commands = list(python_commands(job))
    assert [module for module, _ in commands] == ["tooling.plan_report", "tooling.pr_comment"]
    render, comment = (arguments for _, arguments in commands)
    assert render[:5] == ["render", "--expect", "dev", "--expect", "prod"]
    assert render[-1] == "plans"  # a folder, searched: an empty one still renders "not planned"
    assert render[render.index("--out") + 1] == comment[comment.index("--body-file") + 1]
    (post,) = [step for step in job["steps"] if "tooling.pr_comment" in step.get("run", "")]
    assert post["env"] == {
        "GITHUB_TOKEN": "${{ github.token }}",
        "PR_NUMBER": "${{ github.event.pull_request.number }}",
    }


# -- deploy.yml --------------------------------------------------------------------------------------------------


def test_main_deploys_dev_then_prod_through_one_reusable_job() -> None:
    assert workflow(DEPLOY)["on"] == {"push": {"branches": ["main"]}}
    dev, prod = jobs(DEPLOY)["dev"], jobs(DEPLOY)["prod"]
    assert "needs" not in dev and prod["needs"] == "dev"
    for name, job in (("dev", dev), ("prod", prod)):
        assert job["uses"] == "./.github/workflows/deploy-environment.yml"
        assert job["with"] == {"environment": name, "region": region(name)}
        assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_a_deploy_runs_in_its_github_environment_one_at_a_time_and_is_never_cancelled() -> None:
    assert set(workflow(DEPLOY_ENVIRONMENT)["on"]) == {"workflow_call"}
    job = jobs(DEPLOY_ENVIRONMENT)["deploy"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["concurrency"] == {"group": "deploy-${{ inputs.environment }}", "cancel-in-progress": False}
    # The prod group is the promotion job's: a promotion and a deploy never change prod together.
    assert jobs(PROMOTE)["promote"]["concurrency"]["group"] == "deploy-prod"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert job["env"] == {"ENV": "${{ inputs.environment }}"}


def test_a_deploy_plans_then_applies_those_plans_with_the_environments_apply_role() -> None:
    job = jobs(DEPLOY_ENVIRONMENT)["deploy"]
    credentials = step_using(job, CREDENTIALS)
    assert credentials["with"]["role-to-assume"] == f"${{{{ vars.{APPLY_ROLE_VARIABLE} }}}}"
    assert credentials["with"]["aws-region"] == "${{ inputs.region }}"
    steps = job["steps"]
    assert steps.index({"name": "make setup", "run": "make setup"}) < steps.index(credentials)
    commands = [(module, arguments) for module, arguments in python_commands(job)]
    assert [module for module, _ in commands] == ["tooling.plan_report", "tooling.apply_plans"]
    assert all("$GITHUB_STEP_SUMMARY" in arguments for _, arguments in commands)  # what was planned and applied


# -- drift.yml ---------------------------------------------------------------------------------------------------


def test_drift_is_checked_nightly_and_by_hand_one_run_at_a_time() -> None:
    trigger = workflow(DRIFT)["on"]
    assert set(trigger) == {"schedule", "workflow_dispatch"}
    assert len(trigger["schedule"]) == 1
    assert workflow(DRIFT)["concurrency"] == {"group": "drift", "cancel-in-progress": False}
    assert jobs(DRIFT)["issue"]["needs"] == "plan"


def test_the_drift_plan_uses_the_read_only_role_and_cannot_write_to_github() -> None:
    job = jobs(DRIFT)["plan"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    for entry in job["strategy"]["matrix"]["include"]:
        assert entry["plan-role"] == f"${{{{ vars.{plan_role_variable(entry['environment'])} }}}}"
        assert entry["region"] == region(entry["environment"])
    ((module, arguments),) = python_commands(job)
    assert (module, arguments[:2]) == ("tooling.plan_report", ["plan", "--fail-on-changes"])
    upload = step_using(job, "actions/upload-artifact")
    assert upload["if"] == "${{ !cancelled() }}"


def test_the_issue_job_writes_issues_without_aws_even_after_a_failed_plan() -> None:
    job = jobs(DRIFT)["issue"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    assert job["if"] == "${{ !cancelled() }}"
    assert job["strategy"]["matrix"]["environment"] == ["dev", "prod"]
    assert not [step for step in job["steps"] if step.get("run") == "make setup"]
    download = step_using(job, "actions/download-artifact")
    assert download["continue-on-error"] is True  # a missing report is reported as an error by drift_issue
    ((module, arguments),) = python_commands(job)
    assert module == "tooling.drift_issue"
    assert arguments[arguments.index("--plan-report") + 1] == "drift/plan-report-$ENVIRONMENT.json"


# -- lint ---------------------------------------------------------------------------------------------------------


def test_workflow_lint_reports_what_the_rules_forbid(tmp_path: Path) -> None:
    """A control for `make lint`: an input expanded into a script, an unquoted variable, an unpinned action, a
    checkout that keeps its token and write-all permissions are each caught, by the tool that owns the rule."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on:\n  workflow_dispatch:\n    inputs:\n      model: {required: true, type: string}\n"
        "permissions: write-all\njobs:\n  bad:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ inputs.model }} $HOME\n"
    )
    by_tool: dict[str, str] = {}
    for finding in lint_workflows.lint(workflows):
        by_tool[finding.tool] = by_tool.get(finding.tool, "") + finding.text + "\n"
    assert "SC2086" in by_tool["actionlint"]  # shellcheck ran: $HOME unquoted
    assert "template-injection" in by_tool["zizmor"]
    assert "unpinned-uses" in by_tool["zizmor"]
    assert "artipacked" in by_tool["zizmor"]  # the checkout keeps its token
    assert "CKV2_GHA_1" in by_tool["checkov"]  # top-level write-all


def test_workflow_lint_refuses_a_folder_checkov_would_skip(tmp_path: Path) -> None:
    (tmp_path / "ok.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo\n"
    )
    with pytest.raises(lint_workflows.LintError, match=r"checkov scanned no check of ok.yml"):
        lint_workflows.lint(tmp_path)


def test_make_lint_runs_the_workflow_linters() -> None:
    makefile = (WORKFLOWS.parents[1] / "Makefile").read_text()
    lint_recipe = makefile[makefile.index("\nlint:") : makefile.index("\n\n", makefile.index("\nlint:"))]
    assert "$(PY) -m tooling.lint_workflows" in lint_recipe


# -- upkeep ---------------------------------------------------------------------------------------------------------


def test_dependabot_updates_every_pinned_ecosystem_after_a_cooldown() -> None:
    config = workflow(WORKFLOWS.parent / "dependabot.yml")
    updates = {(update["package-ecosystem"], update["directory"]): update for update in config["updates"]}
    assert set(updates) == {("github-actions", "/"), ("pip", "/"), ("pip", "/tools/checkov"), ("npm", "/")}
    repo = WORKFLOWS.parents[1]
    assert (repo / "Pipfile.lock").exists() and (repo / "tools/checkov/Pipfile.lock").exists()
    assert (repo / "package-lock.json").exists()
    for update in updates.values():
        assert update["schedule"]["interval"] == "weekly"
        assert update["cooldown"]["default-days"] >= 7
    # The provider binding must match the offline mirror's provider: moved by hand, not by a weekly bump.
    assert {"cdktf", "cdktf-cdktf-provider-aws"} <= {
        rule["dependency-name"] for rule in updates[("pip", "/")]["ignore"]
    }


def test_codeowners_guard_the_stacks_and_the_promotion_manifest() -> None:
    repo = WORKFLOWS.parents[1]
    owners = {
        line.split()[0]: line.split()[1:]
        for line in (repo / ".github" / "CODEOWNERS").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert owners["/stacks/"] and owners["/.github/"]
    assert owners["/platform_config/promotions/"]
    for path in owners:
        assert (repo / path.strip("/")).exists(), f"CODEOWNERS names {path}, which does not exist"
    assert (repo / ".github" / "pull_request_template.md").read_text().count("- [ ]") >= 5
