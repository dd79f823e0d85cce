"""`python -m promotion`: promote a candidate model to production, verify it, roll it back, show the trail.

    check MODEL VERSION     fit for production? names, candidate present, sha256 = manifest, quality gate,
                            not already serving
    stage MODEL VERSION     check, then append the promotion to the environment's record
    rollback MODEL          append a rollback to the version production served before
    discard MODEL           drop the newest entry of MODEL if it was never applied
    plan [--model M]        synthesize, plan the artifact store stack into a saved plan, show what changes;
                            with --model, refuse a plan that changes anything but that model's promotion
    apply [--model M]       apply exactly that saved plan (with M: already applied counts as done)
    verify MODEL            production holds the record's bytes (sha256), tags and pointer
    history MODEL           the audit trail
    promote MODEL VERSION   all of it locally: check, stage, plan, confirm, apply, verify (make promote)
    rollback MODEL --apply  the same for a rollback (make rollback)

ENV selects the environment (make sets it; default local). Exit 0 on success (a step already done counts),
1 with one line `promotion: error: ...` when refused or failed, 2 for usage errors. Staging writes only the
record; nothing else changes until the plan is applied, and a failed or declined `promote` takes its
staged entry back out.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

import platform_config
from platform_config import EnvironmentConfig
from promotion import identity
from promotion import record as records
from promotion.candidate import Candidate, CandidateError, check_names, inspect_candidate
from promotion.deployed import (
    ProductionStateError,
    deployed_pointers,
    guard_record,
    pending_entries,
    read_pointer,
    verify,
)
from promotion.pointer import PointerError, artifact_key, parse_pointer, pointer_key
from promotion.record import Entry, PromotionRecord, RecordError, check_reason
from tooling import aws_clients, stack_plan, terminal
from tooling.aws_clients import object_exists

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK = "artifact-store"
PLAN_FILE = "promotion.tfplan"
PROGRESS_FROM_BYTES = 64 * 1024 * 1024


class Refused(RuntimeError):
    """A step refused to go on; the message is the one line the user sees."""


@dataclass
class Context:
    """One environment's promotion setting: its config, record file, buckets and synth output."""

    config: EnvironmentConfig
    s3: Any
    outdir: Path

    @property
    def record_path(self) -> Path:
        return records.record_path(self.config.name, self.config.local_state_dir)

    @property
    def record_name(self) -> str:
        return records.display_path(self.record_path)

    @property
    def candidate_bucket(self) -> str:
        return self.config.resource_name("candidate-models")

    @property
    def production_bucket(self) -> str:
        return self.config.resource_name("production-models")

    @property
    def stack_dir(self) -> Path:
        return self.outdir / "stacks" / self.config.stack_name(STACK)

    @property
    def plan_file(self) -> Path:
        return self.stack_dir / PLAN_FILE

    def load_record(self) -> PromotionRecord:
        return records.load(self.record_path, self.config.name)

    def save_record(self, record: PromotionRecord) -> None:
        records.save(record, self.record_path)

    def checked_record(self) -> tuple[PromotionRecord, dict[str, Any]]:
        """The record and the deployed pointers, after refusing a record that is behind production."""
        record = self.load_record()
        return record, guard_record(self.s3, self.production_bucket, record, self.record_name)


def emit(line: str = "") -> None:
    print(line, flush=True)


# -- the steps ----------------------------------------------------------------------------------------


def check(context: Context, model: str, version: str) -> Candidate:
    """Every check a promotion needs; Refused/CandidateError naming the first problem."""
    check_names(model, version)
    config = context.config
    emit(f"check {model} {version} in {config.name}")
    training = config.training
    candidate = inspect_candidate(
        context.s3,
        context.candidate_bucket,
        model,
        version,
        metric=training.quality_metric,
        threshold=training.quality_threshold,
        progress=HashProgress(),
    )
    emit(f"  candidate   s3://{context.candidate_bucket}/models/{model}/{version}/")
    emit(f"  sha256      {candidate.sha256} ({candidate.bytes:,} bytes) matches its manifest")
    quality = candidate.quality
    emit(f"  quality     {quality.metric} {quality.value:.4f} >= {quality.threshold} (the {config.name} threshold)")
    serving = read_pointer(context.s3, context.production_bucket, model)
    if serving is not None and serving.version == version:
        raise Refused(
            f"{model} {version} is already in production in {config.name} (promotion {serving.sequence}, "
            f"approved by {serving.document['promotion'].get('approved_by')})"
        )
    emit(f"  production  {f'serves {model} {serving.version}' if serving else f'serves no {model} yet'}")
    return candidate


def new_entry(action: str, version: str, artifact: Candidate | Entry, approver: str, reason: str) -> Entry:
    """An entry for `version`, whose bytes are described by `artifact` (the checked candidate for a promotion,
    the entry that first promoted it for a rollback), made by `approver` now, from this run and commit."""
    return Entry(
        action=action,
        version=version,
        sha256=artifact.sha256,
        bytes=artifact.bytes,
        etag=artifact.etag,
        manifest_sha256=artifact.manifest_sha256,
        training_data_uri=artifact.training_data_uri,
        quality=artifact.quality,
        approved_by=approver,
        approved_at=identity.utc_now(),
        reason=reason,
        run=identity.run_url(),
        git_sha=identity.git_sha(),
    )


def stage(context: Context, model: str, version: str, reason: str, approver: str) -> bool:
    """Append the promotion of `model` `version` to the record; False when it was already staged."""
    check_names(model, version)
    check_reason(reason)
    record, deployed = context.checked_record()
    pending = _pending(record, deployed, model)
    if pending is not None:
        if pending.action == "promote" and pending.version == version:
            emit(f"already staged: {model} {version} in {context.record_name} (not applied yet)")
            return False
        raise Refused(_pending_message(context, model, pending))
    entry = new_entry("promote", version, check(context, model, version), approver, reason)
    context.save_record(record.with_entry(model, entry))
    emit(f"staged: promote {model} {version} (promotion {len(record.history(model)) + 1}) in {context.record_name}")
    return True


def rollback(context: Context, model: str, reason: str, approver: str) -> bool:
    """Append a rollback of `model` to the version before; False when one is already staged."""
    check_names(model, "0.0.0")
    check_reason(reason)
    record, deployed = context.checked_record()
    pending = _pending(record, deployed, model)
    if pending is not None:
        if pending.action == "rollback":
            emit(f"already staged: rollback of {model} to {pending.version} in {context.record_name} (not applied yet)")
            return False
        raise Refused(_pending_message(context, model, pending))
    target = record.rollback_target(model)
    key = artifact_key(model, target)
    if not object_exists(context.s3, context.production_bucket, key):
        raise Refused(f"s3://{context.production_bucket}/{key} is missing: cannot roll {model} back to {target}")
    entry = new_entry("rollback", target, record.promoted_versions(model)[target], approver, reason)
    current = record.production(model)
    assert current is not None
    context.save_record(record.with_entry(model, entry))
    emit(f"staged: rollback {model} {current.version} -> {target} in {context.record_name}")
    return True


def discard(context: Context, model: str) -> None:
    """Drop `model`'s newest entry, which must not be applied yet."""
    check_names(model, "0.0.0")
    record = context.load_record()
    deployed = deployed_pointers(context.s3, context.production_bucket, [model])
    pending = _pending(record, deployed, model)
    if pending is None:
        raise Refused(
            f"{model} has no staged entry to discard in {context.record_name} (to undo a deployed one: rollback)"
        )
    history = record.history(model)[:-1]
    key = artifact_key(model, pending.version)
    copied_before = any(entry.version == pending.version for entry in history)
    if not copied_before and object_exists(context.s3, context.production_bucket, key):
        raise Refused(
            f"s3://{context.production_bucket}/{key} was copied by an apply that did not finish: finish it "
            "(python -m promotion plan, then apply) instead of discarding the entry that declares it"
        )
    models = {name: entries for name, entries in record.models.items() if name != model}
    if history:
        models[model] = history
    context.save_record(PromotionRecord(record.environment, models))
    emit(f"discarded: {pending.action} {model} {pending.version} from {context.record_name}")


def plan(context: Context, summary_file: Path | None = None, model: str | None = None) -> stack_plan.StackPlan:
    """Synthesize and plan the artifact store stack into the saved plan file; print what it changes. With
    `model`, refuse (and delete) a plan that changes anything but that model's copies and pointer: what the
    reviewers approve is the promotion and nothing else, and the promotion role may do nothing else."""
    context.checked_record()
    emit(f"synthesizing {context.config.name} into {context.outdir} ...")
    stack_plan.synth(context.config, context.outdir)
    emit(f"planning {context.stack_dir.name} ...")
    planned = stack_plan.plan_stack(context.config, context.stack_dir, context.plan_file)
    emit(planned.text())
    foreign = [change for change in planned.changes if model is not None and not promotes(change, model)]
    if foreign:
        context.plan_file.unlink()
        listed = ", ".join(f"{change.verb} {change.address}" for change in foreign[:5])
        raise Refused(
            f"the plan also changes {len(foreign)} resource(s) that are not {model}'s promotion ({listed}"
            f"{', ...' if len(foreign) > 5 else ''}): deploy those first (make deploy ENV={context.config.name}), "
            "then plan the promotion again"
        )
    pointer_lines = pointer_changes(planned)
    for line in pointer_lines:
        emit(f"  {line}")
    if summary_file is not None:
        with summary_file.open("a") as summary:
            summary.write(planned.markdown())
            summary.writelines(f"\n- {line}" for line in pointer_lines)
            summary.write("\n")
    return planned


def apply(context: Context, model: str | None = None) -> None:
    """Apply the saved plan. With `model`: a plan Terraform calls stale (the state moved since) whose promotion
    production already shows (`verify` passes) counts as applied, so a workflow job that failed after its apply
    (e.g. at the record push) can simply be re-run."""
    emit(f"applying {context.plan_file.relative_to(context.outdir)} ...")
    try:
        stack_plan.apply_plan(context.config, context.stack_dir, context.plan_file)
    except stack_plan.TerraformError as exc:
        if model is None or not exc.stale_plan:
            raise
        try:
            verify(context.s3, context.production_bucket, context.load_record(), model)
        except ProductionStateError:
            raise exc from None
        context.plan_file.unlink()
        emit(f"already applied: production matches the record for {model}; the stale saved plan was removed")


def verify_model(context: Context, model: str) -> None:
    check_names(model, "0.0.0")
    record = context.load_record()
    verified = verify(context.s3, context.production_bucket, record, model)
    location = f"s3://{context.production_bucket}/{artifact_key(model, verified.version)}"
    emit(f"verified {model} {verified.version} in {context.config.name} production")
    emit(f"  object      {location}")
    emit(f"  sha256      {verified.sha256} (S3's checksum of the copy) = the record's")
    emit("  tags        environment, model, version, approver, git-sha as recorded")
    emit(
        f"  pointer     s3://{context.production_bucket}/{pointer_key(model)} names it (promotion {verified.sequence})"
    )
    if verified.earlier_versions:
        emit(f"  earlier     {', '.join(verified.earlier_versions)} still in the production bucket")


def history(context: Context, model: str) -> None:
    check_names(model, "0.0.0")
    record = context.load_record()
    entries = record.history(model)
    if not entries:
        raise Refused(f"{model} has never been promoted in {context.config.name} ({context.record_name})")
    deployed = read_pointer(context.s3, context.production_bucket, model)
    emit(f"{model} in {context.config.name} ({context.record_name}):")
    for sequence, entry in enumerate(entries, start=1):
        marker = ""
        if deployed is not None and deployed.sequence == sequence:
            marker = "  <- production"
        elif deployed is None or sequence > deployed.sequence:
            marker = "  (staged, not applied)"
        emit(
            f"  {sequence:>3}  {entry.approved_at}  {entry.action:<8} {entry.version:<22} sha256 {entry.sha256[:12]}  "
            f"{entry.quality.metric} {entry.quality.value:.3f}  by {entry.approved_by}  {entry.run}{marker}"
        )
        emit(f"       reason: {entry.reason}")


def deliver(context: Context, model: str, staged: bool, confirm: Callable[[str], bool]) -> None:
    """plan -> confirm -> apply -> verify what was just staged. A plan that fails or is declined takes a newly
    `staged` entry back out; a failed apply leaves it staged (run again to retry, or discard it)."""
    try:
        planned = plan(context, model=model)
        if not planned.has_changes:
            raise Refused("the plan changes nothing: is the record already applied? (python -m promotion verify)")
        if not confirm(f"Apply this plan to {context.config.name}? [y/N] "):
            raise Refused("not applied: the plan was declined")
    except BaseException:
        if staged:
            try:
                discard(context, model)
            except (Refused, RecordError, ClientError, BotoCoreError) as cleanup:  # report the first failure
                print(f"promotion: the staged entry could not be taken back out: {cleanup}", file=sys.stderr)
        raise
    apply(context)
    verify_model(context, model)


def promotes(change: stack_plan.PlannedChange, model: str) -> bool:
    """A change a promotion of `model` may make: create one of its copies, create or update its pointer."""
    logical_id = change.address.split(".", 1)[-1]
    if not logical_id.startswith(f"production-{model}_"):  # construct path production-<model>/...; "_" ends it
        return False
    if change.type == "aws_s3_object_copy":
        return change.verb == "create"
    return change.type == "aws_s3_object" and change.verb in ("create", "update")


def pointer_changes(planned: stack_plan.StackPlan) -> list[str]:
    """`churn: production 1.0.1 -> 1.0.2` for each pointer the plan writes."""
    lines = []
    for change in planned.changes:
        if change.type != "aws_s3_object" or not (change.object_key or "").endswith("/production.json"):
            continue
        before, after = (_pointer_version(side.get("content")) for side in (change.before, change.after))
        model = (change.object_key or "").split("/")[1]
        lines.append(f"{model}: production {before or 'none'} -> {after or 'none'}")
    return lines


def _pointer_version(content: Any) -> str | None:
    if not isinstance(content, str):
        return None
    try:
        return parse_pointer(content).version
    except PointerError:
        return None


def _pending(record: PromotionRecord, deployed: dict[str, Any], model: str) -> Entry | None:
    """`model`'s newest entry when it is not deployed yet (the pointer carries an older sequence)."""
    pending = pending_entries(record, deployed, model)
    return pending[-1] if pending else None


def _pending_message(context: Context, model: str, pending: Entry) -> str:
    return (
        f"{model} already has a staged {pending.action} to {pending.version} in {context.record_name} that is not "
        f"applied: apply it (python -m promotion plan, then apply) or drop it (python -m promotion discard {model})"
    )


class HashProgress:
    """A line on stderr per tenth of a large archive hashed (small ones hash silently)."""

    def __init__(self) -> None:
        self.printed = 0

    def __call__(self, done: int, total: int) -> None:
        tenth = done * 10 // total if total >= PROGRESS_FROM_BYTES else 0
        if tenth > self.printed:
            self.printed = tenth
            print(f"  hashing     {done / 2**20:,.0f} of {total / 2**20:,.0f} MiB", file=sys.stderr, flush=True)


# -- command line --------------------------------------------------------------------------------------


def terminal_confirm(assume_yes: bool) -> Callable[[str], bool]:
    return terminal.confirmation(assume_yes, Refused, "pass --yes (make promote ... YES=1)")


def default_reason(config: EnvironmentConfig, action: str) -> str | None:
    """Locally a reason may be left out; dev and prod promotions must say why."""
    return f"{action} in the local emulator (make {action})" if config.is_local else None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m promotion", description=__doc__.splitlines()[0])
    root.add_argument("--outdir", type=Path, default=REPO_ROOT / "cdktf.out", help="synth output (default cdktf.out)")
    commands = root.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str, *arguments: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        for argument in arguments:
            sub.add_argument(argument)
        return sub

    command("check", "is MODEL VERSION fit for production?", "model", "version")
    for sub in (
        command("stage", "append the promotion to the record", "model", "version"),
        command("rollback", "append a rollback to the previous production version", "model"),
        command("promote", "check, stage, plan, confirm, apply, verify", "model", "version"),
    ):
        sub.add_argument("--reason", help="why (required outside local)")
        sub.add_argument("--approver", help="who answers for it (default: GITHUB_ACTOR, git user.email, $USER)")
    commands.choices["rollback"].add_argument("--apply", action="store_true", help="then plan, confirm, apply, verify")
    for name in ("promote", "rollback"):
        commands.choices[name].add_argument("--yes", action="store_true", help="apply without asking (or YES=1)")
    command("discard", "drop MODEL's staged entry that was never applied", "model")
    planner = command("plan", "plan the artifact store into a saved plan")
    planner.add_argument(
        "--summary-file", type=Path, help="also append the plan as Markdown here (e.g. $GITHUB_STEP_SUMMARY)"
    )
    planner.add_argument("--model", help="refuse a plan that changes anything but this model's promotion")
    command("apply", "apply the saved plan").add_argument(
        "--model", help="a stale plan whose promotion of MODEL production already shows counts as applied"
    )
    command("verify", "production matches the record", "model")
    command("history", "the audit trail", "model")
    return root


def run(args: argparse.Namespace, config: EnvironmentConfig) -> int:
    aws_clients.require_emulator(config)
    context = Context(config, aws_clients.client("s3", config), args.outdir.resolve())
    reason = getattr(args, "reason", None) or default_reason(config, args.command)
    if args.command in ("stage", "rollback", "promote") and reason is None:
        raise Refused(f"--reason is required in {config.name}: say why this changes production")
    approver = getattr(args, "approver", None) or identity.approver()
    assume_yes = getattr(args, "yes", False) or os.environ.get("YES", "") not in ("", "0")
    match args.command:
        case "check":
            check(context, args.model, args.version)
            emit(f"ok: {args.model} {args.version} can be promoted in {config.name}")
        case "stage":
            stage(context, args.model, args.version, reason, approver)
        case "rollback":
            staged = rollback(context, args.model, reason, approver)
            if args.apply:
                deliver(context, args.model, staged, terminal_confirm(assume_yes))
        case "discard":
            discard(context, args.model)
        case "plan":
            plan(context, args.summary_file, args.model)
        case "apply":
            apply(context, args.model)
        case "verify":
            verify_model(context, args.model)
        case "history":
            history(context, args.model)
        case "promote":
            staged = stage(context, args.model, args.version, reason, approver)
            deliver(context, args.model, staged, terminal_confirm(assume_yes))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = platform_config.load()
        return run(args, config)
    except (
        Refused,
        CandidateError,
        RecordError,
        ProductionStateError,
        stack_plan.TerraformError,
        platform_config.ConfigError,
        RuntimeError,
        BotoCoreError,
        ClientError,
    ) as exc:
        print(f"promotion: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("promotion: interrupted", file=sys.stderr)
        return 130
