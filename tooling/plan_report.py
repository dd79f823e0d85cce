"""Plan every stack of an environment and report it: the PR comment, the job summary, the drift issue, `make plan`.

    python -m tooling.plan_report plan [--no-synth] [--outdir D] [--report-json F] [--summary-file F]
                                       [--fail-on-changes] [--quiet]
    python -m tooling.plan_report render REPORT.json|FOLDER ... [--expect ENV ...] [--title T] [--limit N]
                                         [--out F] [--summary-file F]

`plan` (ENV selects the environment; make sets it) synthesizes, then plans each stack of `cdktf.out/manifest.json`
in dependency order (`terraform plan -detailed-exitcode -lock=false -out=cdktf.out/stacks/<stack>/plan.tfplan`),
keeps every saved plan for `tooling.apply_plans` (a stack whose plan fails keeps none, not even an older one),
runs checkov over the synthesized stacks, and writes:
- the environment's report as JSON (default `cdktf.out/plan-report-<env>.json`): per stack the counts, each
  changed resource with its changed attributes (sensitive values already masked, so no secret reaches an
  artifact or a comment), or the error; checkov's result;
- the Markdown report (tooling.plan_markdown) to stdout (unless `--quiet`) and to `--summary-file`
  ($GITHUB_STEP_SUMMARY).
Progress goes to stderr. Exit 0 when every stack planned (changes or not), 1 when a stack's plan or checkov failed,
2 on bad configuration or credentials; with `--fail-on-changes` (drift) 3 when a plan has changes.

`render` merges reports (a PR's `dev` and `prod`, planned by separate jobs; a folder is searched for them) into one
Markdown report that fits GitHub's comment limit; an `--expect`ed environment without a report is shown as not
planned. It exits 0 once written, also for failed plans: the comment must show them.

A stack that depends on a stack with changes is planned against that stack's current outputs (cdktf reads them
from its state); the report says so, and `tooling.apply_plans` plans it again after its dependency is applied.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from tooling.plan_diff import AttributeChange

if TYPE_CHECKING:  # imported when run: loading them costs time `render` does not need
    from platform_config import EnvironmentConfig
    from tooling.stack_plan import StackPlan

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTDIR = REPO_ROOT / "cdktf.out"
PLAN_FILE_NAME = "plan.tfplan"
REPORT_FORMAT = "ml-platform/plan-report"
REPORT_FORMAT_VERSION = 1

# Resource types whose destroy or replacement loses data, and what is lost. The report warns about each.
STATEFUL_TYPES: Mapping[str, str] = {
    "aws_s3_bucket": "every object and object version in it",
    "aws_kms_key": "everything it encrypts becomes unreadable once the key is deleted",
    "aws_codeartifact_domain": "every package of every repository in it",
    "aws_codeartifact_repository": "every package version published to it",
    "aws_cloudwatch_log_group": "its log history",
}
LOSSY_VERBS = ("destroy", "replace")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CHANGES = 0, 1, 2, 3


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    verb: str  # create, update, destroy or replace
    attributes: tuple[AttributeChange, ...] = ()

    @property
    def loses_data(self) -> bool:
        return self.type in STATEFUL_TYPES and self.verb in LOSSY_VERBS

    @property
    def replaced_by(self) -> tuple[str, ...]:
        """The attributes that force a replacement."""
        return tuple(attribute.path for attribute in self.attributes if attribute.forces_replacement)


@dataclass(frozen=True)
class StackReport:
    stack: str
    status: str  # "planned", "error", or "deferred" (it needs outputs a dependency's pending changes create)
    changes: tuple[ResourceChange, ...] = ()
    output_changes: tuple[str, ...] = ()
    error: str = ""
    # Dependencies (direct or not) whose own plan has changes or failed: this plan used their current outputs.
    waits_on: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "destroy": 0, "replace": 0}
        for change in self.changes:
            counts[change.verb] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.output_changes)

    @property
    def failed(self) -> bool:
        return self.status == "error"

    @property
    def deferred(self) -> bool:
        return self.status == "deferred"

    def summary(self) -> str:
        """`1 to add, 2 to change, 0 to destroy, 1 to replace`, `outputs only`, `no changes`, `error` or
        `planned at deploy`."""
        if self.failed:
            return "error"
        if self.deferred:
            return "planned at deploy"
        if self.changes:
            counts = self.counts
            return (
                f"{counts['create']} to add, {counts['update']} to change, "
                f"{counts['destroy']} to destroy, {counts['replace']} to replace"
            )
        return "outputs change" if self.output_changes else "no changes"


@dataclass(frozen=True)
class CheckovSummary:
    passed: int = 0
    skipped: int = 0
    failed: tuple[str, ...] = ()  # one line per failed check
    skipped_by_config: tuple[str, ...] = ()  # the check ids .checkov.yaml turns off
    error: str = ""  # checkov did not run

    @property
    def ok(self) -> bool:
        return not self.failed and not self.error


@dataclass(frozen=True)
class EnvironmentReport:
    environment: str
    stacks: tuple[StackReport, ...]
    checkov: CheckovSummary = field(default_factory=CheckovSummary)
    error: str = ""  # the environment could not be planned at all (configuration, credentials, synth)

    @property
    def has_changes(self) -> bool:
        return any(stack.has_changes for stack in self.stacks)

    @property
    def failed(self) -> bool:
        return bool(self.error) or any(stack.failed for stack in self.stacks) or not self.checkov.ok

    def lossy_changes(self) -> list[tuple[StackReport, ResourceChange]]:
        return [(stack, change) for stack in self.stacks for change in stack.changes if change.loses_data]

    def to_json(self) -> str:
        return json.dumps({"format": REPORT_FORMAT, "format_version": REPORT_FORMAT_VERSION, **asdict(self)}, indent=1)

    @classmethod
    def from_json(cls, text: str, source: str = "report") -> EnvironmentReport:
        """Read a report `to_json` wrote; ValueError naming `source` for anything else."""
        try:
            document = json.loads(text)
            if document.get("format") != REPORT_FORMAT or document.get("format_version") != REPORT_FORMAT_VERSION:
                raise ValueError(f"not a {REPORT_FORMAT} v{REPORT_FORMAT_VERSION} document")
            return cls(
                environment=document["environment"],
                stacks=tuple(_stack_from(stack) for stack in document["stacks"]),
                error=document["error"],
                checkov=CheckovSummary(
                    **{
                        **document["checkov"],
                        "failed": tuple(document["checkov"]["failed"]),
                        "skipped_by_config": tuple(document["checkov"]["skipped_by_config"]),
                    }
                ),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{source}: unreadable plan report ({exc})") from exc


def _stack_from(document: Mapping[str, Any]) -> StackReport:
    changes = tuple(
        ResourceChange(
            change["address"],
            change["type"],
            change["verb"],
            tuple(AttributeChange(**attribute) for attribute in change["attributes"]),
        )
        for change in document["changes"]
    )
    return StackReport(
        stack=document["stack"],
        status=document["status"],
        changes=changes,
        output_changes=tuple(document["output_changes"]),
        error=document["error"],
        waits_on=tuple(document["waits_on"]),
    )


def terraform_errors(output: str, max_lines: int = 25) -> str:
    """The `Error:` blocks of Terraform's output (what a reviewer needs), else its last lines."""
    lines = output.rstrip().splitlines()
    starts = [index for index, line in enumerate(lines) if line.lstrip("│ ").startswith("Error: ")]
    kept = lines[starts[0] :] if starts else lines[-max_lines:]
    kept = [line.removeprefix("│ ").removeprefix("│") for line in kept if line.strip() not in ("╷", "╵")]
    if len(kept) > max_lines:
        kept = [*kept[:max_lines], f"... ({len(kept) - max_lines} more lines in the job log)"]
    return "\n".join(kept).strip()


def only_missing_dependency_outputs(errors: str) -> bool:
    """True when every Terraform error is about reading another stack's outputs (cdktf's cross-stack references):
    what a stack planned before its dependencies' pending changes are applied gets, e.g. on a first deploy."""
    blocks = [block for block in re.split(r"(?m)^(?=Error: )", errors) if block.startswith("Error: ")]
    return bool(blocks) and all(
        "cross-stack-reference-input" in block or "terraform_remote_state" in block for block in blocks
    )


def stack_report(plan: StackPlan) -> StackReport:
    """The report of a tooling.stack_plan.StackPlan."""
    changes = tuple(
        ResourceChange(change.address, change.type, change.verb, tuple(change.attribute_changes()))
        for change in plan.changes
    )
    return StackReport(plan.stack, "planned", changes, tuple(plan.output_changes))


def plan_environment(
    config: EnvironmentConfig, outdir: Path = DEFAULT_OUTDIR, *, synthesize: bool = True, progress: TextIO = sys.stderr
) -> EnvironmentReport:
    """Synthesize (unless told not to), plan every stack in dependency order into its saved plan, and scan."""
    from tooling import stack_order, stack_plan

    started = time.monotonic()

    def say(message: str) -> None:
        progress.write(f"[{time.monotonic() - started:5.0f}s] {message}\n")
        progress.flush()

    if synthesize:
        say(f"synthesizing {config.name} into {shown_path(outdir)}")
        stack_plan.synth(config, outdir)
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    waves = stack_order.deploy_waves(manifest)
    total = sum(len(wave) for wave in waves)
    reports: dict[str, StackReport] = {}

    def plan_one(stack: str) -> StackReport:
        waits_on = tuple(
            sorted(
                name
                for name in stack_order.upstream_of(manifest, stack)
                if reports[name].has_changes or reports[name].failed
            )
        )
        stack_dir = outdir / "stacks" / stack
        # An older saved plan must not outlive a plan that fails now: `make apply` would apply it.
        (stack_dir / PLAN_FILE_NAME).unlink(missing_ok=True)
        try:
            plan = stack_plan.plan_stack(config, stack_dir, stack_dir / PLAN_FILE_NAME)
        except stack_plan.TerraformError as exc:
            errors = terraform_errors(exc.output or str(exc))
            status = "deferred" if waits_on and only_missing_dependency_outputs(errors) else "error"
            report = StackReport(stack, status, error=errors, waits_on=waits_on)
        else:
            report = dataclasses.replace(stack_report(plan), waits_on=waits_on)
        say(f"  {stack}: {'plan failed' if report.failed else report.summary()}")
        return report

    # checkov reads only the synthesized JSON: it runs while Terraform waits on the AWS APIs. The stacks of one
    # wave depend on none of each other (cdktf's manifest), so they are planned at once, as cdktf deploys them.
    with ThreadPoolExecutor(max_workers=max(len(wave) for wave in waves) + 1) as pool:
        scanning = pool.submit(_checkov, outdir / "stacks")
        for wave in waves:
            say(f"planning {', '.join(wave)} ({len(reports) + len(wave)}/{total} stacks)")
            for stack, report in zip(wave, pool.map(plan_one, wave), strict=True):
                reports[stack] = report
        checkov = scanning.result()
    order = [stack for wave in waves for stack in wave]
    say(f"done: {len(order)} stacks planned")
    return EnvironmentReport(config.name, tuple(reports[stack] for stack in order), checkov)


def _checkov(stacks_dir: Path) -> CheckovSummary:
    from tooling import checkov_scan

    try:
        scanned = checkov_scan.scan(stacks_dir)
    except checkov_scan.CheckovError as exc:
        return CheckovSummary(error=str(exc))
    return CheckovSummary(
        scanned.passed,
        scanned.skipped,
        tuple(finding.line() for finding in scanned.failed),
        checkov_scan.configured_skips(),
    )


def shown_path(path: Path) -> str:
    """`path` relative to the repository when it is inside it (what a user types), else as given."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _write(path: Path, text: str, *, append: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as handle:
        handle.write(text)


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    from tooling import plan_markdown

    parser = argparse.ArgumentParser(prog="python -m tooling.plan_report", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="plan every stack of $ENV and report it")
    plan.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR, help="the synth directory (default cdktf.out)")
    plan.add_argument("--no-synth", action="store_true", help="plan what --outdir already holds")
    plan.add_argument("--report-json", type=Path, help="default <outdir>/plan-report-<env>.json")
    plan.add_argument("--summary-file", type=Path, help="append the Markdown report here ($GITHUB_STEP_SUMMARY)")
    plan.add_argument("--fail-on-changes", action="store_true", help=f"exit {EXIT_CHANGES} when a plan has changes")
    plan.add_argument("--quiet", action="store_true", help="do not print the report to stdout")
    render = commands.add_parser("render", help="merge saved reports into one Markdown report")
    render.add_argument("reports", nargs="*", type=Path, help="report files, or directories searched for them")
    render.add_argument("--expect", action="append", default=[], metavar="ENV", help="say so when ENV has no report")
    render.add_argument("--title", default=plan_markdown.DEFAULT_TITLE)
    render.add_argument("--limit", type=int, default=plan_markdown.COMMENT_LIMIT, help="most characters")
    render.add_argument("--out", type=Path, help="write here instead of stdout")
    render.add_argument("--summary-file", type=Path, help="also append the report here ($GITHUB_STEP_SUMMARY)")
    args = parser.parse_args(argv)
    if args.command == "render":
        return _render(args, stdout, stderr)
    return _plan(args, stdout, stderr)


def _render(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Exit 0 once the Markdown is written, also for reports of failed plans: the comment must show them."""
    from tooling import plan_markdown

    # A path that does not exist is a report nobody uploaded (the download makes no folder when nothing matched):
    # said on stderr, and an --expect'ed environment it would have held is shown as not planned.
    for missing in (path for path in args.reports if not path.exists()):
        print(f"warning: {missing} does not exist: no plan report there", file=stderr)
    files = [
        found
        for path in args.reports
        if path.exists()
        for found in (sorted(path.rglob("plan-report-*.json")) if path.is_dir() else [path])
    ]
    try:
        reports = [EnvironmentReport.from_json(path.read_text(encoding="utf-8"), str(path)) for path in files]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=stderr)
        return EXIT_USAGE
    found = {report.environment for report in reports}
    reports += [
        EnvironmentReport(name, (), error="no plan report: the plan job stopped before planning (see its log)")
        for name in args.expect
        if name not in found
    ]
    if not reports:
        print("error: no plan report given or found", file=stderr)
        return EXIT_USAGE
    order = {name: index for index, name in enumerate(args.expect)}
    reports.sort(key=lambda report: order.get(report.environment, len(order)))
    text = plan_markdown.render(reports, title=args.title, limit=args.limit)
    if args.out:
        _write(args.out, text)
    else:
        stdout.write(text)
    if args.summary_file:
        _write(
            args.summary_file,
            plan_markdown.render(reports, title=args.title, limit=plan_markdown.SUMMARY_LIMIT),
            append=True,
        )
    return EXIT_OK


def _plan(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    import platform_config
    from tooling import plan_markdown
    from tooling.deploy import MissingCredentialsError, check_reachable

    environment = os.environ.get("ENV") or "local"
    try:
        config = platform_config.load()
        environment = config.name
        check_reachable(config, os.environ)
        report = plan_environment(config, args.outdir, synthesize=not args.no_synth, progress=stderr)
        code = EXIT_OK
    except (platform_config.ConfigError, MissingCredentialsError, RuntimeError) as exc:
        # RuntimeError: the emulator is down, or synth failed (stack_plan.TerraformError). The report says so too,
        # so the PR comment and the drift issue show why there is no plan.
        print(f"error: {exc}", file=stderr)
        report = EnvironmentReport(environment, (), error=terraform_errors(str(exc)))
        code = EXIT_USAGE
    report_json = args.report_json or args.outdir / f"plan-report-{environment}.json"
    _write(report_json, report.to_json())
    text = plan_markdown.render([report], limit=plan_markdown.SUMMARY_LIMIT)
    if args.summary_file:
        _write(args.summary_file, text, append=True)
    if not args.quiet:
        stdout.write(text)
    print(
        f"report: {shown_path(report_json)}; saved plans: {shown_path(args.outdir)}/stacks/<stack>/{PLAN_FILE_NAME}",
        file=stderr,
    )
    if code != EXIT_OK or report.failed:
        return code or EXIT_FAILED
    return EXIT_CHANGES if args.fail_on_changes and report.has_changes else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
