"""Apply the saved plans of every stack of an environment, in dependency order: the deploy on merge to main.

    python -m tooling.apply_plans [--outdir cdktf.out] [--summary-file F]      (ENV selects the environment)

`python -m tooling.plan_report plan` left `cdktf.out/stacks/<stack>/plan.tfplan` for each stack; this applies
exactly those, so what the deploy job shows in its plan step is what changes (Terraform refuses a saved plan whose
state moved since: "Saved plan is stale"). Two rules on top:
- a stack whose plan has no changes is not applied;
- a stack that depends on a stack this run changed is planned again first: its saved plan read the dependency's
  outputs before they changed (cdktf passes them through the dependency's state), so applying it could undo them.
  The new plan is printed before it is applied.
Before anything it refuses, as `make deploy` does, a checkout whose promotion record is behind production or has
entries not applied yet (tooling.deploy.check_promotions_current). It stops at the first failure; what was
applied until then is in the summary. Exit 0 applied (or nothing to apply), 1 failed, 2 bad configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tooling.plan_report import DEFAULT_OUTDIR, PLAN_FILE_NAME


@dataclass(frozen=True)
class Applied:
    stack: str
    result: str  # "no changes", Terraform's "2 added, 0 changed, 0 destroyed", or "failed: ..."
    replanned: bool = False

    @property
    def changed(self) -> bool:
        return self.result != "no changes" and not self.result.startswith("failed")


class ApplyError(RuntimeError):
    """A stack failed to apply; `applied` holds what was applied before it."""

    def __init__(self, message: str, applied: list[Applied]) -> None:
        super().__init__(message)
        self.applied = applied


def apply_environment(config: Any, outdir: Path = DEFAULT_OUTDIR, *, stream: TextIO = sys.stdout) -> list[Applied]:
    """Apply the saved plans under `outdir` in dependency order (see the module docstring)."""
    from tooling import stack_order, stack_plan

    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    applied: list[Applied] = []
    changed: set[str] = set()
    for stack in stack_order.deploy_order(manifest):
        stack_dir = outdir / "stacks" / stack
        plan_file = stack_dir / PLAN_FILE_NAME
        replan = sorted(stack_order.upstream_of(manifest, stack) & changed)
        try:
            if replan:
                stream.write(f"\n{stack}: planning again, after {', '.join(replan)} changed\n")
                plan = stack_plan.plan_stack(config, stack_dir, plan_file)
                stream.write(plan.text() + "\n")
            elif not plan_file.exists():
                raise stack_plan.TerraformError(
                    f"no saved plan at {plan_file}: run `python -m tooling.plan_report plan` first"
                )
            else:
                plan = stack_plan.read_plan(config, stack_dir, plan_file)
            if not (plan.changes or plan.output_changes):
                applied.append(Applied(stack, "no changes", bool(replan)))
                stream.write(f"{stack}: no changes\n")
                continue
            stream.write(f"\n{stack}: applying {plan.summary()}\n")
            summary = stack_plan.apply_plan(config, stack_dir, plan_file, stream=stream)
        except stack_plan.TerraformError as exc:
            reason = (
                f"the state of {stack} changed since its plan was made (another deploy or a promotion ran): "
                "run the workflow again to plan from the new state"
                if exc.stale_plan
                else str(exc)
            )
            applied.append(Applied(stack, f"failed: {reason.splitlines()[0]}", bool(replan)))
            raise ApplyError(f"{stack}: {reason}", applied) from exc
        applied.append(Applied(stack, summary, bool(replan)))
        changed.add(stack)
    return applied


def markdown(environment: str, applied: Sequence[Applied]) -> str:
    """The job summary: one row per stack."""
    lines = [f"### Applied to `{environment}`", "", "| Stack | Result |", "| --- | --- |"]
    for item in applied:
        note = " (planned again after its dependencies changed)" if item.replanned else ""
        lines.append(f"| `{item.stack}` | {item.result.replace('|', '/')}{note} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(prog="python -m tooling.apply_plans", description=__doc__.split("\n\n")[0])
    parser.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR, help="where plan_report left the plans")
    parser.add_argument("--summary-file", type=Path, help="append what was applied here ($GITHUB_STEP_SUMMARY)")
    args = parser.parse_args(argv)

    import platform_config
    from tooling.deploy import MissingCredentialsError, check_promotions_current, check_reachable

    try:
        config = platform_config.load()
        check_reachable(config, os.environ)
        check_promotions_current(config)
    except (platform_config.ConfigError, MissingCredentialsError) as exc:
        print(f"error: {exc}", file=stderr)
        return 2
    except RuntimeError as exc:
        print(f"error: {exc}", file=stderr)
        return 1
    try:
        applied = apply_environment(config, args.outdir, stream=stdout)
        failure = None
    except ApplyError as exc:
        applied, failure = exc.applied, exc
    if args.summary_file:
        with args.summary_file.open("a", encoding="utf-8") as summary:
            summary.write(markdown(config.name, applied))
    print(f"\napplied to {config.name}:", file=stdout)
    for item in applied:
        print(f"  {item.stack}: {item.result}", file=stdout)
    if failure is not None:
        print(f"error: {failure}", file=stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
