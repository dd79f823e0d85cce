"""Plan one synthesized stack into a saved plan file, show what it changes, apply exactly that plan.

    synth(config, outdir)                       `cdktf synth` of the environment into outdir
    plan_stack(config, stack_dir, plan_file)    terraform init + plan -out, then `show -json` -> StackPlan
    apply_plan(config, stack_dir, plan_file)    terraform apply <plan_file>: nothing but what was shown

A saved plan is what a reviewer approves: Terraform refuses to apply it if the state moved since it was
made ("Saved plan is stale"), so approving a plan can never apply something else. `make promote` and the
promotion workflow both go through here; the workflow uploads the stack directory with its plan between
jobs and re-initializes it before applying.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from platform_config import EnvironmentConfig
from tooling import shell_env
from tooling.deploy import LockFileWarningFilter, command_environment
from tooling.plan_diff import AttributeChange, attribute_changes

REPO_ROOT = Path(__file__).resolve().parent.parent
# terraform show -json's actions, as the one word a summary shows (a replacement is delete+create).
_VERBS = {
    ("create",): "create",
    ("update",): "update",
    ("delete",): "destroy",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
}
_SYMBOLS = {"create": "+", "update": "~", "destroy": "-", "replace": "-/+"}
_APPLIED = re.compile(r"Apply complete! Resources: (?P<summary>[^.]+)\.")


class TerraformError(RuntimeError):
    """A terraform command failed; the message ends with the tail of its output (unless it was shown as it came),
    `output` holds all of it."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output

    @property
    def stale_plan(self) -> bool:
        """Terraform refused a saved plan because the state changed since it was made."""
        return "Saved plan is stale" in self.output


@dataclass(frozen=True)
class PlannedChange:
    address: str
    type: str
    verb: str  # create, update, destroy or replace
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)
    # show -json's whole `change` object (with the sensitive and unknown shadow trees) for attribute_changes.
    change: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def attribute_changes(self) -> list[AttributeChange]:
        """The attributes this change touches, sensitive values masked (tooling.plan_diff)."""
        return attribute_changes(self.change)

    @property
    def object_key(self) -> str | None:
        """The S3 key of an object resource (after the change, or before a destroy)."""
        key = (self.after or {}).get("key") or (self.before or {}).get("key")
        return key if isinstance(key, str) else None

    def line(self) -> str:
        key = f"  ({self.object_key})" if self.object_key else ""
        return f"{_SYMBOLS[self.verb]:>3} {self.verb:<8} {self.address}{key}"


@dataclass(frozen=True)
class StackPlan:
    stack: str
    plan_file: Path
    changes: tuple[PlannedChange, ...]
    output_changes: tuple[str, ...] = ()  # names of the stack outputs the plan changes

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(_SYMBOLS, 0)
        for change in self.changes:
            counts[change.verb] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def summary(self) -> str:
        """`2 to create, 1 to update, 0 to destroy, 0 to replace`, or `no changes`."""
        if not self.changes:
            return "no changes"
        return ", ".join(f"{count} to {verb}" for verb, count in self.counts.items())

    def text(self) -> str:
        """The plan for a terminal: one line per changed resource."""
        lines = [f"{self.stack}: {self.summary()}"]
        lines += [f"  {change.line()}" for change in self.changes]
        return "\n".join(lines)

    def markdown(self) -> str:
        """The plan for a GitHub job summary."""
        lines = [f"### `{self.stack}`: {self.summary()}", ""]
        if self.changes:
            lines += ["| | resource | S3 key |", "| --- | --- | --- |"]
            lines += [f"| {change.verb} | `{change.address}` | {change.object_key or ''} |" for change in self.changes]
        return "\n".join(lines) + "\n"


def changes_from_show(document: Mapping[str, Any]) -> tuple[PlannedChange, ...]:
    """The resources a `terraform show -json <plan>` document changes (no-op and read are not changes)."""
    changes = []
    for resource in document.get("resource_changes", []):
        change = resource.get("change", {})
        verb = _VERBS.get(tuple(change.get("actions", ())))
        if verb is None:
            continue
        changes.append(
            PlannedChange(
                address=resource["address"],
                type=resource["type"],
                verb=verb,
                before=change.get("before") or {},
                after=change.get("after") or {},
                change=change,
            )
        )
    return tuple(changes)


def output_changes_from_show(document: Mapping[str, Any]) -> tuple[str, ...]:
    """Names of the outputs a `terraform show -json <plan>` document changes."""
    outputs = document.get("output_changes") or {}
    return tuple(name for name, output in sorted(outputs.items()) if output.get("actions") != ["no-op"])


def terraform_environment(config: EnvironmentConfig, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What `make` gives Terraform (the provider mirror's CLI config, no checkpoint calls), no prompts, and
    for `local` the emulator's dummy credentials instead of whatever the shell holds."""
    base = dict(os.environ if environ is None else environ)
    for name, value in shell_env.settings(base, shell_env.node_major()).items():
        base.setdefault(name, value)
    base.update(TF_IN_AUTOMATION="1", TF_INPUT="0")
    return command_environment(config, base)


def synth(config: EnvironmentConfig, outdir: Path) -> None:
    """`cdktf synth` of `config`'s environment into `outdir` (TerraformError with its output on failure)."""
    _run(["npx", "--no-install", "cdktf", "synth", "--output", str(outdir)], REPO_ROOT, config, echo=False)


def stack_directory(outdir: Path, config: EnvironmentConfig, component: str) -> Path:
    directory = outdir / "stacks" / config.stack_name(component)
    if not (directory / "cdk.tf.json").exists():
        raise TerraformError(f"{directory} holds no synthesized stack (cdk.tf.json): synthesize first")
    return directory


def plan_stack(config: EnvironmentConfig, stack_dir: Path, plan_file: Path) -> StackPlan:
    """init, `plan -detailed-exitcode -out=<plan_file>`, and what that plan changes.

    -detailed-exitcode exits 2 for a plan with changes (outputs included); that is a success here. -lock=false: a
    plan writes no state, and `terraform apply <plan_file>` refuses the plan if the state moved since it was made,
    so planning needs no lock; the read-only plan roles then need no write at all (stacks/bootstrap.py)."""
    init(config, stack_dir)
    command = ["terraform", "plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode"]
    _run([*command, f"-out={plan_file}"], stack_dir, config, echo=False, ok_codes=(0, 2))
    return read_plan(config, stack_dir, plan_file)


def read_plan(config: EnvironmentConfig, stack_dir: Path, plan_file: Path) -> StackPlan:
    """The StackPlan of a saved plan file (terraform show -json)."""
    shown = json.loads(_run(["terraform", "show", "-json", str(plan_file)], stack_dir, config, echo=False))
    return StackPlan(stack_dir.name, plan_file, changes_from_show(shown), output_changes_from_show(shown))


def init(config: EnvironmentConfig, stack_dir: Path, *, migrate_state: bool = False) -> None:
    """`terraform init` (idempotent; needed again after the directory moved between CI jobs). `migrate_state`
    (default False): the stack's backend changed since the last init; copy its state to the new one without
    asking (`-migrate-state -force-copy`), as the bootstrap does once, from a local file to its own bucket."""
    command = ["terraform", "init", "-input=false", "-no-color"]
    if migrate_state:
        command += ["-migrate-state", "-force-copy"]
    _run(command, stack_dir, config, echo=False)


def outputs(config: EnvironmentConfig, stack_dir: Path) -> dict[str, Any]:
    """The stack's outputs from its state, {name: value} (`terraform output -json`)."""
    shown = _run(["terraform", "output", "-json", "-no-color"], stack_dir, config, echo=False)
    return {name: output.get("value") for name, output in json.loads(shown or "{}").items()}


def apply_plan(config: EnvironmentConfig, stack_dir: Path, plan_file: Path, *, stream: TextIO = sys.stdout) -> str:
    """Apply exactly `plan_file`; Terraform refuses a plan made against a state that has changed since.

    Returns Terraform's own account of it: `2 added, 1 changed, 0 destroyed`."""
    if not plan_file.exists():
        raise TerraformError(f"no saved plan at {plan_file}: plan first")
    init(config, stack_dir)
    command = ["terraform", "apply", "-no-color", "-input=false", "-lock-timeout=5m", str(plan_file)]
    output = _run(command, stack_dir, config, stream=stream, until="Outputs:")
    plan_file.unlink()  # applied: a second apply of it could only fail as stale
    applied = _APPLIED.search(output)
    return applied["summary"] if applied else "applied"


def _run(
    command: list[str],
    cwd: Path,
    config: EnvironmentConfig,
    *,
    stream: TextIO = sys.stdout,
    echo: bool = True,
    until: str | None = None,
    ok_codes: tuple[int, ...] = (0,),
) -> str:
    """Run `command`; with `echo` its output lines go to `stream` as they come (Terraform's provider lock-file
    box filtered as in deploy; nothing from a line starting with `until` on, e.g. apply's list of every stack
    output). Returns stdout; TerraformError with the output's tail (when not echoed already) if it fails."""
    environment = terraform_environment(config)
    if not echo:
        result = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, check=False)
        if result.returncode not in ok_codes:
            _fail(command, cwd, result.returncode, result.stdout + result.stderr)
        return result.stdout
    lines: list[str] = []
    warnings = LockFileWarningFilter()
    echoing = True
    with subprocess.Popen(
        command, cwd=cwd, env=environment, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            echoing = echoing and not (until and line.startswith(until))
            if echoing:
                stream.writelines(warnings.feed(line))
                stream.flush()
    stream.writelines(warnings.flush())
    if process.returncode != 0:
        _fail(command, cwd, process.returncode, "".join(lines), echoed=True)
    return "".join(lines)


def _fail(command: list[str], cwd: Path, code: int, output: str, *, echoed: bool = False) -> None:
    where = f"`{' '.join(command)}` failed (exit {code}) in {cwd}"
    if echoed:
        raise TerraformError(f"{where} (its output is above)", output)
    tail = "\n".join(output.rstrip().splitlines()[-30:])
    raise TerraformError(f"{where}:\n{tail}", output)
