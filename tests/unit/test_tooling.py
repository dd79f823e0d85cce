"""Tooling behind the make targets: Terraform checks, CLI config, deploy command and report."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import load_config
from tooling import backfill, deploy, shell_env
from tooling.terraform_toolchain import (
    ToolchainError,
    check_node,
    check_terraform,
    parse_version,
    render_cli_config,
    write_cli_config,
)
from tooling.terraform_toolchain import main as toolchain_main


def fake_terraform(tmp_path: Path, version: str) -> Path:
    binary = tmp_path / "terraform"
    binary.write_text(f'#!/bin/sh\necho \'{{"terraform_version": "{version}"}}\'\n')
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    return binary


def test_terraform_older_than_1_10_is_refused_with_the_install_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_terraform(tmp_path, "1.9.8")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match=r"terraform 1\.9\.8 .* too old; install >= 1\.10\.0: https://"):
        check_terraform()


def test_missing_terraform_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match=r"terraform is not on PATH; install Terraform >= 1\.10\.0"):
        check_terraform()


def test_recent_terraform_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_terraform(tmp_path, "1.11.4")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert check_terraform() == "1.11.4"


@pytest.mark.parametrize("text, parsed", [("1.11.4", (1, 11, 4)), ("v1.10.0-beta1", (1, 10, 0)), ("2", (2, 0, 0))])
def test_versions_parse(text: str, parsed: tuple[int, int, int]) -> None:
    assert parse_version(text) == parsed


def test_cli_config_uses_the_mirror_for_hashicorp_and_the_registry_otherwise(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io").mkdir(parents=True)
    destination = tmp_path / "cli.tfrc"
    assert write_cli_config(mirror, destination) is True
    assert write_cli_config(mirror, destination) is False  # idempotent: unchanged file
    text = destination.read_text()
    assert text == render_cli_config(mirror.resolve())
    assert f'path    = "{mirror.resolve()}"' in text and "direct {" in text


def test_a_directory_that_is_not_a_mirror_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match=r"has no registry\.terraform\.io/ directory"):
        write_cli_config(tmp_path, tmp_path / "cli.tfrc")


def test_deploy_targets_every_stack_of_the_environment() -> None:
    command = deploy.cdktf_command("deploy", load_config("dev"), skip_provider_lock=True)
    assert command[:5] == ["npx", "--no-install", "cdktf", "deploy", "dev-*"]
    assert "--auto-approve" in command and "--skip-provider-lock" in command
    assert "--skip-provider-lock" not in deploy.cdktf_command("destroy", load_config("dev"), False)


def test_local_deploys_never_see_real_credentials() -> None:
    shell = {
        "AWS_ACCESS_KEY_ID": "AKIAREAL",
        "AWS_SECRET_ACCESS_KEY": "real",
        "AWS_PROFILE": "prod",
        "AWS_SESSION_TOKEN": "token",
        "PATH": os.environ["PATH"],
    }
    env = deploy.command_environment(load_config("local"), shell)
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("test", "test")
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert deploy.command_environment(load_config("dev"), shell)["AWS_PROFILE"] == "prod"


def test_dev_and_prod_refuse_destroy() -> None:
    with pytest.raises(RuntimeError, match="refusing to destroy prod"):
        deploy.run("destroy", load_config("prod"), environ={})


def test_report_reads_each_stack_from_cdktf_output() -> None:
    output = [
        "local-artifact-store  \x1b[0m\x1b[1mInitializing the backend...\x1b[0m\n",
        "                      Apply complete! Resources: 30 added, 0 changed, 0 destroyed.\n",
        "local-data-pipeline  \x1b[0mNo changes. Your infrastructure matches the configuration.\n",
        "local-training  Apply complete! Resources: 0 added, 0 changed, 0 destroyed.\n",
    ]
    results = deploy.parse_results(output)
    assert [(r.stack, r.summary, r.changed) for r in results] == [
        ("local-artifact-store", "30 added, 0 changed, 0 destroyed", True),
        ("local-data-pipeline", "no changes", False),
        ("local-training", "no changes", False),
    ]


# -- running cdktf by hand: `make env` / .envrc ------------------------------------------------------------


def fake_binary(directory: Path, name: str, output: str) -> Path:
    binary = directory / name
    binary.write_text(f"#!/bin/sh\necho '{output}'\n")
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    return binary


def test_shell_env_with_a_mirror_points_terraform_at_the_project_config_and_skips_the_lock(tmp_path: Path) -> None:
    values = shell_env.settings({"TF_PROVIDER_MIRROR": str(tmp_path)}, node="22")
    assert values == {
        "CHECKPOINT_DISABLE": "1",
        "TF_PROVIDER_MIRROR": str(tmp_path),
        "TF_CLI_CONFIG_FILE": str(shell_env.CLI_CONFIG_FILE),
        "CDKTF_SKIP_PROVIDER_LOCK": "true",
    }


def test_shell_env_without_a_mirror_leaves_terraform_on_the_registry() -> None:
    values = shell_env.settings({"TF_PROVIDER_MIRROR": ""}, node="22")
    assert values == {"CHECKPOINT_DISABLE": "1"}


def test_shell_env_silences_the_jsii_banner_on_node_20_only() -> None:
    assert (
        shell_env.settings({"TF_PROVIDER_MIRROR": ""}, node="20")["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"]
        == "20"
    )
    assert "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" not in shell_env.settings({}, node="18")


def test_the_default_mirror_is_used_only_when_it_exists(tmp_path: Path) -> None:
    assert shell_env.provider_mirror({}, default=tmp_path) == tmp_path
    assert shell_env.provider_mirror({}, default=tmp_path / "absent") is None


def test_make_env_prints_exports_a_plain_shell_can_eval(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {"PATH": os.environ["PATH"], "TF_PROVIDER_MIRROR": str(tmp_path), "HOME": str(tmp_path)}
    printed = subprocess.run(
        [sys.executable, "-m", "tooling.shell_env"], cwd=shell_env.REPO_ROOT, env=env, capture_output=True, text=True
    ).stdout
    script = f"{printed}\necho $TF_CLI_CONFIG_FILE $CDKTF_SKIP_PROVIDER_LOCK $CHECKPOINT_DISABLE"
    shell = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True)
    assert shell.stdout.split() == [str(shell_env.CLI_CONFIG_FILE), "true", "1"]


def test_the_makefile_exports_what_make_env_prints() -> None:
    makefile = (shell_env.REPO_ROOT / "Makefile").read_text()
    assert "$(shell $(PYTHON) -m tooling.shell_env --make)" in makefile
    assert 'eval "$(python3 -m tooling.shell_env)"' in (shell_env.REPO_ROOT / ".envrc").read_text()


@pytest.mark.parametrize(
    "version, expected",
    [("v22.11.0", "node v22.11.0"), ("v20.20.2", "node v20.20.2 (end-of-life: works; make silences jsii")],
)
def test_node_is_checked_and_node_20_is_explained_once(tmp_path: Path, version: str, expected: str) -> None:
    node = fake_binary(tmp_path, "node", version)
    assert check_node(str(node)).startswith(expected)


def test_node_older_than_20_is_refused_with_the_install_link(tmp_path: Path) -> None:
    with pytest.raises(ToolchainError, match=r"node v18\.20\.0 is too old; install Node\.js 22 LTS: https://"):
        check_node(str(fake_binary(tmp_path, "node", "v18.20.0")))


def test_toolchain_findings_are_printed_only_when_they_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_terraform(tmp_path, "1.11.4")
    fake_binary(tmp_path, "node", "v22.1.0")
    monkeypatch.setenv("PATH", str(tmp_path))
    args = ["--config-out", str(tmp_path / "cli.tfrc"), "--report", str(tmp_path / "toolchain.txt")]
    assert toolchain_main(args) == 0
    assert "node v22.1.0" in capsys.readouterr().out
    assert toolchain_main(args) == 0
    assert capsys.readouterr().out == ""  # unchanged: nothing to say
    fake_binary(tmp_path, "node", "v22.2.0")
    toolchain_main(args)
    assert "node v22.2.0" in capsys.readouterr().out


# -- cdktf deploy output and real-account guard ---------------------------------------------------------------

LOCK_WARNING = [
    "local-artifact-store  - Installed hashicorp/aws v5.100.0 (unauthenticated)\n",
    "                      \x1b[33m╷\x1b[0m\x1b[0m\n",
    "                      \x1b[33m│\x1b[0m \x1b[0m\x1b[1m\x1b[33mWarning: \x1b[0m\x1b[0m\x1b[1mIncomplete lock file "
    "information for providers\x1b[0m\n",
    "                      \x1b[33m│\x1b[0m \x1b[0mDue to your customized provider installation methods, Terraform\n",
    "                      \x1b[33m│\x1b[0m \x1b[0m  terraform providers lock -platform=linux_amd64\n",
    "                      \x1b[33m╵\x1b[0m\x1b[0m\n",
    "                      Terraform has been successfully initialized!\n",
]
ERROR_BOX = [
    "local-data-pipeline  ╷\n",
    "                     │ Error: creating S3 Bucket: BucketAlreadyExists\n",
    "                     ╵\n",
]


def test_lock_file_warnings_are_dropped_and_explained_once() -> None:
    lock_filter = deploy.LockFileWarningFilter()
    printed = [out for line in LOCK_WARNING * 2 + ERROR_BOX for out in lock_filter.feed(line)] + lock_filter.flush()
    text = "".join(printed)
    assert "Incomplete lock file" not in text and "providers lock" not in text
    assert text.count("successfully initialized") == 2
    assert "".join(ERROR_BOX) in text  # every other box passes through whole, stack prefix included
    assert lock_filter.seen


def test_output_without_the_warning_passes_through_unchanged() -> None:
    lock_filter = deploy.LockFileWarningFilter()
    lines = [*ERROR_BOX, "                     ╷\n"]  # a box opening on the very last line is kept too
    assert [out for line in lines for out in lock_filter.feed(line)] + lock_filter.flush() == lines
    assert not lock_filter.seen


@pytest.fixture
def no_aws_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "absent-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup offline


@pytest.mark.usefixtures("no_aws_credentials")
def test_real_account_deploy_without_credentials_stops_with_one_line_naming_the_readme(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENV", "dev")
    assert deploy.main(["deploy"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("error: no AWS credentials for dev") and "README: Deploying to a real AWS account" in error


@pytest.mark.usefixtures("no_aws_credentials")
def test_a_missing_profile_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "team-dev")
    with pytest.raises(deploy.MissingCredentialsError, match="team-dev"):
        deploy.check_credentials(load_config("dev"), os.environ)


@pytest.mark.usefixtures("no_aws_credentials")
def test_credentials_from_the_environment_are_enough_to_proceed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    deploy.check_credentials(load_config("dev"), os.environ)


# -- make backfill ---------------------------------------------------------------------------------------------


class FakeStepFunctions:
    """Records StartExecution calls; DescribeExecution reports RUNNING `running` times, then `final`."""

    def __init__(self, running: int, final: dict[str, str]) -> None:
        self.started: list[dict[str, str]] = []
        self.running, self.final = running, final

    def start_execution(self, **kwargs: str) -> dict[str, str]:
        self.started.append(kwargs)
        return {"executionArn": f"arn:aws:states:us-east-1:123456789012:execution:bf:{len(self.started)}"}

    def describe_execution(self, executionArn: str) -> dict[str, str]:
        if self.running:
            self.running -= 1
            return {"status": "RUNNING"}
        return self.final


def test_backfill_starts_without_a_name_so_aws_names_each_run() -> None:
    sfn = FakeStepFunctions(0, {})
    backfill.start_backfill(sfn, "arn:machine", "incoming/churn/")
    backfill.start_backfill(sfn, "arn:machine", "incoming/churn/")
    assert sfn.started == [{"stateMachineArn": "arn:machine", "input": '{"prefix": "incoming/churn/"}'}] * 2


def test_backfill_prefix_must_be_a_folder() -> None:
    with pytest.raises(ValueError, match="prefix 'incoming/churn' must end with '/'"):
        backfill.start_backfill(FakeStepFunctions(0, {}), "arn:machine", "incoming/churn")


def test_backfill_wait_reports_progress_until_the_execution_ends() -> None:
    progress: list[str] = []
    final = {"status": "SUCCEEDED", "output": '{"objects": 3}'}
    described = backfill.wait_for_execution(
        FakeStepFunctions(2, final), "arn", 60, lambda status, _: progress.append(status), poll_seconds=0
    )
    assert described == final and progress == ["RUNNING", "RUNNING"]


def test_backfill_wait_gives_up_after_the_timeout() -> None:
    with pytest.raises(TimeoutError, match="still RUNNING after 0 s"):
        backfill.wait_for_execution(FakeStepFunctions(10**6, {}), "arn", 0, poll_seconds=0)
