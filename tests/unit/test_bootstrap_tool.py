"""`python -m tooling.bootstrap`: which steps it takes for what exists, with Terraform faked."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from platform_config import EnvironmentConfig
from tests.conftest import load_config
from tests.moto_support import mock_aws_without_managed_policies, moto_client
from tooling import bootstrap
from tooling.bootstrap import BootstrapError, StateWhereabouts, Step

OUTPUTS = {
    "plan_role_arn": "arn:aws:iam::123456789012:role/mlp-prod-github-plan",
    "apply_role_arn": "arn:aws:iam::123456789012:role/mlp-prod-github-apply",
    "promotion_role_arn": "arn:aws:iam::123456789012:role/mlp-prod-github-promotion",
}


@dataclass
class FakePlan:
    """What the tool reads of a tooling.stack_plan.StackPlan."""

    changes: tuple[str, ...] = ("aws_s3_bucket.state",)
    output_changes: tuple[str, ...] = ()
    plan_file: Path = Path("bootstrap.tfplan")

    def text(self) -> str:
        return f"bootstrap-prod: {len(self.changes)} to create" if self.changes else "bootstrap-prod: no changes"


@dataclass
class FakeTerraform:
    """Records each call as (step, backend): backend "local" or "s3" is what the last synth declared."""

    changes: bool = True
    output_changes: tuple[str, ...] = ()
    calls: list[tuple[str, str]] = field(default_factory=list)
    backend: str = ""

    def synth(self, config: EnvironmentConfig, local_state: Path | None) -> Path:
        self.backend = "s3" if local_state is None else "local"
        self.calls.append(("synth", self.backend))
        return Path("stack")

    def plan(self, config: EnvironmentConfig, stack_dir: Path) -> Any:
        self.calls.append(("plan", self.backend))
        return FakePlan(("aws_s3_bucket.state",) if self.changes else (), self.output_changes)

    def apply(self, config: EnvironmentConfig, stack_dir: Path, plan: Any) -> None:
        self.calls.append(("apply", self.backend))

    def migrate(self, config: EnvironmentConfig, stack_dir: Path) -> None:
        self.calls.append(("migrate", self.backend))

    def outputs(self, config: EnvironmentConfig, stack_dir: Path) -> dict[str, Any]:
        self.calls.append(("outputs", self.backend))
        return dict(OUTPUTS)


def steps(terraform: FakeTerraform) -> list[tuple[str, str]]:
    return [call for call in terraform.calls if call[0] != "synth"]


def run(
    found: StateWhereabouts,
    local_state: Path,
    *,
    answer: bool = True,
    changes: bool = True,
    output_changes: tuple[str, ...] = (),
) -> Any:
    terraform = FakeTerraform(changes=changes, output_changes=output_changes)
    questions: list[str] = []

    def confirm(question: str) -> bool:
        questions.append(question)
        return answer

    result = bootstrap.run(
        load_config("prod"),
        confirm=confirm,
        terraform=terraform,
        found=found,
        local_state=local_state,
        stream=io.StringIO(),
    )
    return result, terraform, questions


def test_a_first_run_applies_with_local_state_then_moves_it_into_the_new_bucket(tmp_path: Path) -> None:
    local_state = tmp_path / "bootstrap.tfstate"
    local_state.write_text("{}")  # what the apply leaves
    result, terraform, questions = run(StateWhereabouts(False, False, False), local_state)
    assert steps(terraform) == [
        ("plan", "local"),
        ("apply", "local"),
        ("migrate", "local"),  # Terraform learns where the state is now ...
        ("migrate", "s3"),  # ... and copies it to the bucket (-migrate-state -force-copy)
        ("outputs", "s3"),
    ]
    assert (result.step, result.applied, result.outputs) == (Step.FIRST_RUN, True, OUTPUTS)
    assert questions == ["Apply this plan to prod? [y/N] "]
    assert not local_state.exists()
    assert (tmp_path / "bootstrap.tfstate.migrated").read_text() == "{}"


def test_a_declined_first_run_applies_and_moves_nothing(tmp_path: Path) -> None:
    result, terraform, _ = run(StateWhereabouts(False, False, False), tmp_path / "s", answer=False)
    assert steps(terraform) == [("plan", "local")]
    assert result.applied is False


def test_a_later_run_plans_and_applies_against_the_bucket(tmp_path: Path) -> None:
    result, terraform, _ = run(StateWhereabouts(True, True, False), tmp_path / "s")
    assert steps(terraform) == [("plan", "s3"), ("apply", "s3"), ("outputs", "s3")]
    assert result.step is Step.LATER_RUN


def test_a_run_with_nothing_to_change_asks_nothing(tmp_path: Path) -> None:
    result, terraform, questions = run(StateWhereabouts(True, True, False), tmp_path / "s", changes=False)
    assert steps(terraform) == [("plan", "s3"), ("outputs", "s3")]
    assert questions == []
    assert result.applied is True


def test_a_first_run_that_stopped_before_moving_its_state_moves_it_then_plans(tmp_path: Path) -> None:
    local_state = tmp_path / "bootstrap.tfstate"
    local_state.write_text("{}")
    result, terraform, _ = run(StateWhereabouts(True, False, True), local_state)
    assert steps(terraform) == [
        ("migrate", "local"),
        ("migrate", "s3"),
        ("plan", "s3"),
        ("apply", "s3"),
        ("outputs", "s3"),
    ]
    assert result.step is Step.FINISH_MIGRATION


@pytest.mark.parametrize(
    "found, message",
    [
        (StateWhereabouts(True, False, False), "exists but holds no bootstrap state"),
        (StateWhereabouts(True, True, True), "both"),
    ],
)
def test_states_a_person_must_sort_out_are_refused_naming_the_bucket(
    tmp_path: Path, found: StateWhereabouts, message: str
) -> None:
    with pytest.raises(BootstrapError, match=message) as caught:
        run(found, tmp_path / "bootstrap.tfstate")
    assert "mlp-prod-terraform-state" in str(caught.value)


def test_find_state_asks_s3_for_the_bucket_and_the_bootstrap_state_object(tmp_path: Path) -> None:
    config = load_config("prod")
    local_state = tmp_path / "bootstrap.tfstate"
    with mock_aws_without_managed_policies():
        s3 = moto_client("s3", "eu-west-1")
        assert bootstrap.find_state(config, s3, local_state) == StateWhereabouts(False, False, False)
        location = {"LocationConstraint": "eu-west-1"}
        s3.create_bucket(Bucket="mlp-prod-terraform-state", CreateBucketConfiguration=location)
        assert bootstrap.find_state(config, s3, local_state) == StateWhereabouts(True, False, False)
        s3.put_object(Bucket="mlp-prod-terraform-state", Key="ml-platform/prod/bootstrap-prod.tfstate", Body=b"{}")
        local_state.write_text("{}")
        assert bootstrap.find_state(config, s3, local_state) == StateWhereabouts(True, True, True)


def test_local_is_refused_before_any_aws_call(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_aws(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("AWS was asked")

    monkeypatch.setattr(bootstrap, "check_credentials", no_aws)
    monkeypatch.setattr(bootstrap, "find_state", no_aws)
    code = bootstrap.main([], environ={"ENV": "local", "LOCAL_STATE_DIR": str(tmp_path)})
    assert code == 2
    assert "ENV=local needs no bootstrap" in capsys.readouterr().err


def test_off_a_terminal_a_plan_is_applied_only_with_yes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO())
    with pytest.raises(BootstrapError, match="pass --yes"):
        bootstrap.terminal_confirm(False)("Apply? ")
    assert bootstrap.terminal_confirm(True)("Apply? ") is True


def test_the_github_variables_name_each_role_and_where_it_goes() -> None:
    text = bootstrap.github_variables(load_config("prod"), OUTPUTS)
    assert f"AWS_PLAN_ROLE_ARN_PROD={OUTPUTS['plan_role_arn']}" in text
    assert f"AWS_APPLY_ROLE_ARN={OUTPUTS['apply_role_arn']}" in text
    assert "GitHub environment 'prod'" in text
    assert f"AWS_PROMOTION_ROLE_ARN={OUTPUTS['promotion_role_arn']}" in text
    assert "'prod' and 'production' to `main`" in text


def test_dev_prints_no_promotion_variable() -> None:
    text = bootstrap.github_variables(load_config("dev"), {**OUTPUTS, "promotion_role_arn": ""})
    assert "AWS_PROMOTION_ROLE_ARN" not in text
    assert "'dev' to `main`" in text


def test_a_plan_that_changes_only_an_output_is_applied(tmp_path: Path) -> None:
    """E.g. a new output (a role's ARN): nothing else changes, and the output must still reach the state."""
    found = StateWhereabouts(bucket_exists=True, remote_state_exists=True, local_state_exists=False)
    result, terraform, _questions = run(found, tmp_path / "bootstrap.tfstate", changes=False, output_changes=("x",))
    assert ("apply", "s3") in steps(terraform)
    assert result.applied
