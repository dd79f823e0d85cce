"""Apply the bootstrap stack of dev or prod (stacks/bootstrap.py), once per environment, as an administrator.

    python -m tooling.bootstrap [--yes]        (ENV=dev|prod; `make bootstrap ENV=dev`)

Synthesizes only `bootstrap-<env>` (in-process, into .state/<env>/bootstrap.out/), plans it into a saved plan, shows
the plan, asks before applying it (`--yes` skips the question; off a terminal it refuses without it), then prints
the role ARNs and the GitHub variables to set. Where its own state lives decides the steps (`decide`):

    first run      the state bucket does not exist yet: plan and apply with the state in the local file
                   .state/<env>/bootstrap.tfstate, then move that state into the bucket just made
                   (`terraform init -migrate-state -force-copy`, key <key_prefix>/bootstrap-<env>.tfstate) and keep
                   the local file as bootstrap.tfstate.migrated
    finish moving  an earlier first run applied but did not move its state: move it, then plan and apply as below
    later runs     the S3 backend directly: plan, show, confirm, apply

Exit codes: 0 done (or nothing to change), 1 declined, a Terraform failure or an unexpected AWS answer, 2 ENV is
local, the configuration is invalid, the shell has no AWS credentials, no terminal to confirm on and no --yes, or
the state is in a state it cannot judge.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol, TextIO

from botocore.exceptions import BotoCoreError, ClientError

import platform_config
from platform_config import EnvironmentConfig
from tooling import terminal
from tooling.aws_clients import client, object_exists
from tooling.deploy import MissingCredentialsError, check_credentials

REPO_ROOT = Path(__file__).resolve().parent.parent


def plan_role_variable(environment: str) -> str:
    """The repository variable the workflows read an environment's plan role from: `AWS_PLAN_ROLE_ARN_DEV`.
    One per environment, because plan jobs name no GitHub environment whose variables could tell them apart."""
    return f"AWS_PLAN_ROLE_ARN_{environment.upper()}"


# The GitHub environment variables the apply and promote jobs read their role from (one name, set per environment).
APPLY_ROLE_VARIABLE = "AWS_APPLY_ROLE_ARN"
PROMOTION_ROLE_VARIABLE = "AWS_PROMOTION_ROLE_ARN"


class BootstrapError(RuntimeError):
    """The bootstrap cannot go on; the message says why and what to do."""


class Step(Enum):
    FIRST_RUN = "first run: state in a local file, then moved into the new bucket"
    FINISH_MIGRATION = "an earlier first run applied but did not move its state: moving it, then planning"
    LATER_RUN = "state in the bucket"


@dataclass(frozen=True)
class StateWhereabouts:
    """What exists of the bootstrap's state: the bucket, the state object in it, a local state file."""

    bucket_exists: bool
    remote_state_exists: bool
    local_state_exists: bool


def decide(found: StateWhereabouts, bucket: str, local_state: Path) -> Step:
    """The step for what exists.

    | bucket | local file | state object | step                                                     |
    |--------|------------|--------------|----------------------------------------------------------|
    | no     | any        | -            | FIRST_RUN (a local file left by a failed first run goes on) |
    | yes    | yes        | no           | FINISH_MIGRATION                                         |
    | yes    | no         | yes          | LATER_RUN                                                |
    | yes    | yes        | yes          | BootstrapError: two states, a person must choose         |
    | yes    | no         | no           | BootstrapError: the bucket was made outside the bootstrap |
    """
    if not found.bucket_exists:
        return Step.FIRST_RUN
    if found.local_state_exists and found.remote_state_exists:
        raise BootstrapError(
            f"both {local_state} and the state object in s3://{bucket} exist; compare them, keep the right one "
            f"(rename {local_state.name} away to use the bucket's) and run again"
        )
    if found.local_state_exists:
        return Step.FINISH_MIGRATION
    if found.remote_state_exists:
        return Step.LATER_RUN
    raise BootstrapError(
        f"bucket {bucket} exists but holds no bootstrap state and there is no {local_state}: it was made outside "
        "the bootstrap. Import it into the bootstrap's state (terraform import) or choose another [state].bucket"
    )


def local_state_file(config: EnvironmentConfig) -> Path:
    """The first run's state file (git-ignored .state/<env>/)."""
    return REPO_ROOT / ".state" / config.name / "bootstrap.tfstate"


def synth_directory(config: EnvironmentConfig) -> Path:
    """Where the bootstrap stack is synthesized (git-ignored .state/<env>/; `make synth` never touches it)."""
    return REPO_ROOT / ".state" / config.name / "bootstrap.out"


def find_state(config: EnvironmentConfig, s3: Any, local_state: Path) -> StateWhereabouts:
    """Ask S3 whether the state bucket and the bootstrap's state object exist, and look for `local_state`;
    BootstrapError when the bucket answers 403 (another account's name, or no s3:ListBucket for these
    credentials)."""
    assert config.state is not None  # dev and prod always have one (platform_config.loader)
    bucket = config.state.bucket
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("404", "NoSuchBucket"):
            return StateWhereabouts(False, False, local_state.exists())
        if code in ("403", "AccessDenied"):
            raise BootstrapError(
                f"bucket {bucket} answers 403: another account owns that name, or these credentials may not list "
                "it; choose another [state].bucket or sign in as an administrator of this account"
            ) from exc
        raise
    remote = object_exists(s3, bucket, state_key(config))
    return StateWhereabouts(True, remote, local_state.exists())


def state_key(config: EnvironmentConfig) -> str:
    """The bootstrap's own state object: <key_prefix>/bootstrap-<env>.tfstate."""
    assert config.state is not None
    return config.state.key_for(config.bootstrap_stack_name)


class Terraform(Protocol):
    """The Terraform steps the bootstrap takes (StackTerraform; tests fake them)."""

    def synth(self, config: EnvironmentConfig, local_state: Path | None) -> Path:
        """Synthesize the bootstrap stack (state in `local_state`, or None: its bucket); its directory."""
        ...

    def plan(self, config: EnvironmentConfig, stack_dir: Path) -> Any:
        """A tooling.stack_plan.StackPlan: init, plan into a saved plan, show."""
        ...

    def apply(self, config: EnvironmentConfig, stack_dir: Path, plan: Any) -> None: ...

    def migrate(self, config: EnvironmentConfig, stack_dir: Path) -> None:
        """Move the state to the backend the stack directory now declares."""
        ...

    def outputs(self, config: EnvironmentConfig, stack_dir: Path) -> dict[str, Any]: ...


class StackTerraform:
    """The real steps: an in-process synth of the bootstrap stack only, and tooling.stack_plan."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream

    def synth(self, config: EnvironmentConfig, local_state: Path | None) -> Path:
        from cdktf import App

        import building_blocks  # noqa: F401  - registers the lightweight provider package first
        from building_blocks.policy_guard import PolicyGuard
        from stacks.bootstrap import BootstrapStack

        outdir = synth_directory(config)
        outdir.mkdir(parents=True, exist_ok=True)
        app = App(outdir=str(outdir))
        stack = BootstrapStack(app, config=config, guard=PolicyGuard(), local_state_file=local_state)
        app.synth()
        return outdir / "stacks" / stack.node.id

    def plan(self, config: EnvironmentConfig, stack_dir: Path) -> Any:
        from tooling import stack_plan

        return stack_plan.plan_stack(config, stack_dir, stack_dir / "bootstrap.tfplan")

    def apply(self, config: EnvironmentConfig, stack_dir: Path, plan: Any) -> None:
        from tooling import stack_plan

        stack_plan.apply_plan(config, stack_dir, plan.plan_file, stream=self.stream)

    def migrate(self, config: EnvironmentConfig, stack_dir: Path) -> None:
        from tooling import stack_plan

        stack_plan.init(config, stack_dir, migrate_state=True)

    def outputs(self, config: EnvironmentConfig, stack_dir: Path) -> dict[str, Any]:
        from tooling import stack_plan

        return stack_plan.outputs(config, stack_dir)


Confirm = Callable[[str], bool]


def terminal_confirm(assume_yes: bool) -> Confirm:
    """Ask on the terminal; `assume_yes` answers yes; off a terminal, BootstrapError unless `assume_yes`."""
    return terminal.confirmation(assume_yes, BootstrapError, "pass --yes")


@dataclass(frozen=True)
class BootstrapResult:
    step: Step
    applied: bool  # False: the plan was declined (nothing changed)
    outputs: Mapping[str, Any]


def run(
    config: EnvironmentConfig,
    *,
    confirm: Confirm,
    terraform: Terraform,
    found: StateWhereabouts,
    local_state: Path,
    stream: TextIO = sys.stdout,
) -> BootstrapResult:
    """Take the step `found` calls for (see `decide`), the first run's state in `local_state`; return what it did
    and the stack's outputs."""
    assert config.state is not None
    step = decide(found, config.state.bucket, local_state)
    print(f"{config.bootstrap_stack_name}: {step.value}", file=stream)
    if step is Step.FIRST_RUN:
        local_state.parent.mkdir(parents=True, exist_ok=True)
        stack_dir = terraform.synth(config, local_state)
        if not _plan_and_apply(config, terraform, stack_dir, confirm, stream):
            return BootstrapResult(step, False, {})
        _move_state_to_bucket(config, terraform, local_state, stream)
    elif step is Step.FINISH_MIGRATION:
        _move_state_to_bucket(config, terraform, local_state, stream)
    stack_dir = terraform.synth(config, None)
    if step is not Step.FIRST_RUN and not _plan_and_apply(config, terraform, stack_dir, confirm, stream):
        return BootstrapResult(step, False, {})
    return BootstrapResult(step, True, terraform.outputs(config, stack_dir))


def _plan_and_apply(
    config: EnvironmentConfig, terraform: Terraform, stack_dir: Path, confirm: Confirm, stream: TextIO
) -> bool:
    """Plan, show; apply when there are changes and the person confirms. False when declined."""
    plan = terraform.plan(config, stack_dir)
    print(plan.text(), file=stream)
    if not (plan.changes or plan.output_changes):
        return True
    if not confirm(f"Apply this plan to {config.name}? [y/N] "):
        print("declined: nothing was applied", file=stream)
        return False
    terraform.apply(config, stack_dir, plan)
    return True


def _move_state_to_bucket(config: EnvironmentConfig, terraform: Terraform, local_state: Path, stream: TextIO) -> None:
    """Re-initialize the stack with its local backend (so Terraform knows where the state is now), then with the
    S3 backend and -migrate-state; the local file is kept beside, renamed, as a backup."""
    assert config.state is not None
    terraform.migrate(config, terraform.synth(config, local_state))
    terraform.migrate(config, terraform.synth(config, None))
    local_state.rename(local_state.with_name(local_state.name + ".migrated"))
    print(f"state moved to s3://{config.state.bucket}/{state_key(config)}", file=stream)


def github_variables(config: EnvironmentConfig, outputs: Mapping[str, Any]) -> str:
    """What to set in GitHub (Settings -> Secrets and variables -> Actions -> Variables), one line each."""
    assert config.github is not None
    variables = (
        (
            plan_role_variable(config.name),
            "plan_role_arn",
            "repository variable (plan jobs name no GitHub environment)",
        ),
        (
            APPLY_ROLE_VARIABLE,
            "apply_role_arn",
            f"variable of the GitHub environment {config.github.deploy_environment!r}",
        ),
        (
            PROMOTION_ROLE_VARIABLE,
            "promotion_role_arn",
            f"variable of the GitHub environment {config.github.promotion_environment!r}",
        ),
    )
    lines = [f"GitHub Actions variables for {config.name}:"]
    for variable, output, where in variables:
        value = outputs.get(output) or ""
        if value:
            lines.append(f"  {variable}={value}\n      {where}")
    environments = [config.github.deploy_environment, config.github.promotion_environment]
    names = " and ".join(repr(name) for name in environments if name)
    lines.append(f"Restrict the deployment branches of the GitHub environment(s) {names} to `main`.")
    return "\n".join(lines)


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--yes", action="store_true", help="apply without asking")
    args = parser.parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        config = platform_config.load(environ=environ)
        if config.is_local:
            raise BootstrapError(
                "ENV=local needs no bootstrap (the emulator keeps state on disk and has no CI roles); "
                "run it with ENV=dev or ENV=prod"
            )
        check_credentials(config, environ)
        local_state = local_state_file(config)
        found = find_state(config, client("s3", config), local_state)
        result = run(
            config,
            confirm=terminal_confirm(args.yes),
            terraform=StackTerraform(),
            found=found,
            local_state=local_state,
        )
    except (platform_config.ConfigError, MissingCredentialsError, BootstrapError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (RuntimeError, BotoCoreError, ClientError) as exc:  # TerraformError is a RuntimeError
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not result.applied:
        return 1
    print()
    for name, value in sorted(result.outputs.items()):
        print(f"  {name} = {value}")
    print()
    print(github_variables(config, result.outputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
