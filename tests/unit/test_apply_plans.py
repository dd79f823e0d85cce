"""tooling.apply_plans with Terraform faked: which saved plans are applied, which stacks are planned again first, and
what a stale plan says. (make demo applies real plans against the emulator: tooling/demo_cicd.py.)"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tooling import apply_plans, stack_plan
from tooling.plan_report import PLAN_FILE_NAME


@dataclass
class FakeTerraform:
    """Saved plans with or without changes per stack; records what was planned and applied."""

    changes: dict[str, bool]
    stale: set[str] = field(default_factory=set)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def plan(self, changes: bool) -> stack_plan.StackPlan:
        found = (stack_plan.PlannedChange("aws_s3_bucket.b", "aws_s3_bucket", "update"),) if changes else ()
        return stack_plan.StackPlan("stack", Path(PLAN_FILE_NAME), found)

    def read_plan(self, config: Any, stack_dir: Path, plan_file: Path) -> stack_plan.StackPlan:
        return self.plan(self.changes[stack_dir.name])

    def plan_stack(self, config: Any, stack_dir: Path, plan_file: Path) -> stack_plan.StackPlan:
        self.calls.append(("plan", stack_dir.name))
        return self.plan(False)

    def apply_plan(self, config: Any, stack_dir: Path, plan_file: Path, *, stream: Any) -> str:
        if stack_dir.name in self.stale:
            raise stack_plan.TerraformError("apply failed", "Error: Saved plan is stale")
        self.calls.append(("apply", stack_dir.name))
        return "0 added, 1 changed, 0 destroyed"


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    """dependencies -> training -> data-pipeline, and inference (on its own); each with a saved plan."""
    graph = {"data-pipeline": [], "training": ["data-pipeline"], "dependencies": ["training"], "inference": []}
    (tmp_path / "manifest.json").write_text(json.dumps({"stacks": {n: {"dependencies": d} for n, d in graph.items()}}))
    for name in graph:
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / PLAN_FILE_NAME).write_text("plan")
    return tmp_path


def fake(monkeypatch: pytest.MonkeyPatch, terraform: FakeTerraform) -> None:
    for name in ("read_plan", "plan_stack", "apply_plan"):
        monkeypatch.setattr(stack_plan, name, getattr(terraform, name))


def test_only_changed_stacks_are_applied_and_their_dependents_are_planned_again_first(
    outdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terraform = FakeTerraform({"data-pipeline": True, "training": False, "dependencies": False, "inference": False})
    fake(monkeypatch, terraform)
    applied = apply_plans.apply_environment(object(), outdir, stream=io.StringIO())
    # training read data-pipeline's outputs before they changed, and dependencies (through training) too.
    assert terraform.calls == [("apply", "data-pipeline"), ("plan", "training"), ("plan", "dependencies")]
    assert [(item.stack, item.result, item.replanned) for item in applied] == [
        ("data-pipeline", "0 added, 1 changed, 0 destroyed", False),
        ("inference", "no changes", False),
        ("training", "no changes", True),
        ("dependencies", "no changes", True),
    ]


def test_a_stale_plan_stops_the_apply_and_says_to_run_it_again(outdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    terraform = FakeTerraform(
        {"data-pipeline": True, "training": False, "dependencies": False, "inference": True}, stale={"inference"}
    )
    fake(monkeypatch, terraform)
    with pytest.raises(apply_plans.ApplyError, match="inference: the state of inference changed since its plan") as exc:
        apply_plans.apply_environment(object(), outdir, stream=io.StringIO())
    assert [(item.stack, item.changed) for item in exc.value.applied] == [("data-pipeline", True), ("inference", False)]


def test_a_stack_without_a_saved_plan_is_an_error_naming_what_to_run(
    outdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake(monkeypatch, FakeTerraform(dict.fromkeys(("data-pipeline", "training", "dependencies", "inference"), False)))
    (outdir / "stacks" / "data-pipeline" / PLAN_FILE_NAME).unlink()
    with pytest.raises(apply_plans.ApplyError, match=r"run `python -m tooling.plan_report plan` first"):
        apply_plans.apply_environment(object(), outdir, stream=io.StringIO())
