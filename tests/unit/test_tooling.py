"""Tooling behind the make targets: Terraform checks, CLI config, deploy command and report."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import load_config
from tooling import deploy
from tooling.terraform_toolchain import (
    ToolchainError,
    check_terraform,
    parse_version,
    render_cli_config,
    write_cli_config,
)


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
