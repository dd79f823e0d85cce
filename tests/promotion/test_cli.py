"""`python -m promotion` refuses every bad input with exit 1 and one line naming the problem, and writes
nothing when it refuses; staging is idempotent; the record it writes is the audit trail."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from promotion import pointer
from promotion.record import load
from tests.promotion.candidate_support import publish_candidate
from tests.promotion.conftest import Outcome, Store

Cli = Callable[..., Outcome]


def refused(outcome: Outcome, *fragments: str) -> None:
    """Exit 1, one line on stderr, containing every fragment."""
    assert outcome.code == 1, (outcome.out, outcome.err)
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("promotion: error: "), outcome.err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def applied(store: Store, model: str) -> None:
    """Write the pointer Terraform would write for the record's current entry (what `apply` does to it)."""
    current = load(store.record, "local").production(model)
    assert current is not None
    content = pointer.dumps(pointer.for_production(current))
    store.s3.put_object(Bucket=store.production, Key=pointer.pointer_key(model), Body=content.encode())


@pytest.mark.parametrize(
    "name",
    [
        "Churn",
        "c",
        "../churn",
        "churn/../../etc",
        "churn;rm -rf /",
        "$(whoami)",
        "`id`",
        "churn name",
        "9churn",
        "ch\nurn",
    ],
)
def test_malformed_model_names_are_refused_before_anything_is_read(promotion_cli: Cli, store: Store, name: str) -> None:
    for command in (("check", name, "1.0.0"), ("stage", name, "1.0.0"), ("rollback", name), ("history", name)):
        refused(promotion_cli(*command), "model name", "is invalid")
    assert store.record_bytes() is None


@pytest.mark.parametrize(
    "version",
    [
        "1.0",
        "v1.0.0",
        "../1.0.0",
        "1.0.0/../../x",
        "1.0.0;ls",
        "1.0.0 && id",
        "$(id)",
        "01.0.0",
        "auto",
        "",
        "\u0661.\u0660.\u0660",
    ],
)
def test_malformed_versions_are_refused(promotion_cli: Cli, store: Store, version: str) -> None:
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    for command in ("check", "stage"):
        refused(promotion_cli(command, "churn", version), "model version")
    assert store.record_bytes() is None


def test_a_missing_candidate_is_named_with_the_versions_that_exist(promotion_cli: Cli, store: Store) -> None:
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    publish_candidate(store.s3, store.candidate, "churn", "1.1.0")
    refused(promotion_cli("check", "churn", "9.9.9"), "no candidate churn 9.9.9", "1.1.0, 1.0.0")
    refused(promotion_cli("check", "fraud", "1.0.0"), "no candidate fraud 1.0.0", "none is published")


def test_an_archive_changed_after_publishing_is_refused(promotion_cli: Cli, store: Store) -> None:
    manifest = publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    store.s3.put_object(Bucket=store.candidate, Key="models/churn/1.0.0/model.tar.gz", Body=b"not the trained model")
    outcome = promotion_cli("stage", "churn", "1.0.0")
    refused(outcome, manifest["artifact"]["sha256"], "the archive changed after it was published")
    assert store.record_bytes() is None


def test_metrics_that_are_not_the_manifest_s_are_refused(promotion_cli: Cli, store: Store) -> None:
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    forged = json.dumps({"metrics": {"auc": 0.99}}).encode()
    store.s3.put_object(Bucket=store.candidate, Key="models/churn/1.0.0/metrics.json", Body=forged)
    refused(promotion_cli("check", "churn", "1.0.0"), "metrics.json does not match the sha256")


def test_a_manifest_of_another_version_is_refused(promotion_cli: Cli, store: Store) -> None:
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    for name in ("model.tar.gz", "metrics.json", "manifest.json"):
        store.s3.copy_object(
            Bucket=store.candidate,
            Key=f"models/churn/2.0.0/{name}",
            CopySource=f"{store.candidate}/models/churn/1.0.0/{name}",
        )
    refused(promotion_cli("check", "churn", "2.0.0"), "describes 'churn' '1.0.0', not churn 2.0.0")


def test_an_archive_larger_than_one_copy_object_is_refused_before_it_is_read(promotion_cli: Cli, store: Store) -> None:
    manifest = publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    manifest["artifact"]["bytes"] = 6 * 1024**3
    store.s3.put_object(Bucket=store.candidate, Key="models/churn/1.0.0/manifest.json", Body=json.dumps(manifest))
    refused(promotion_cli("check", "churn", "1.0.0"), "6,442,450,944 bytes", "at most 5 GB")


def test_metrics_below_the_environment_threshold_are_refused(promotion_cli: Cli, store: Store) -> None:
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0", auc=0.61)
    refused(promotion_cli("stage", "churn", "1.0.0"), "auc 0.6100 is below the promotion threshold 0.7")
    assert store.record_bytes() is None


def test_check_passes_a_good_candidate_and_writes_nothing(promotion_cli: Cli, store: Store) -> None:
    manifest = publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    outcome = promotion_cli("check", "churn", "1.0.0")
    assert outcome.code == 0, outcome.err
    assert manifest["artifact"]["sha256"] in outcome.out
    assert "ok: churn 1.0.0 can be promoted in local" in outcome.out
    assert store.record_bytes() is None


def test_stage_writes_one_entry_and_is_idempotent(promotion_cli: Cli, store: Store) -> None:
    manifest = publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    first = promotion_cli("stage", "churn", "1.0.0", "--reason", "first model", "--approver", "ana@example.com")
    assert first.code == 0, first.err
    written = store.record_bytes()
    again = promotion_cli("stage", "churn", "1.0.0", "--reason", "first model", "--approver", "ana@example.com")
    assert again.code == 0 and "already staged" in again.out
    assert store.record_bytes() == written
    entry = load(store.record, "local").history("churn")[0]
    assert (entry.action, entry.version, entry.sha256) == ("promote", "1.0.0", manifest["artifact"]["sha256"])
    archive = store.s3.head_object(Bucket=store.candidate, Key="models/churn/1.0.0/model.tar.gz")
    assert entry.etag == archive["ETag"]  # what the production copy's copy_if_match will demand
    assert (entry.approved_by, entry.reason, entry.run) == ("ana@example.com", "first model", "local")
    assert (entry.quality.metric, entry.quality.threshold) == ("auc", 0.7)


def test_a_second_stage_while_one_is_pending_is_refused_until_it_is_discarded(promotion_cli: Cli, store: Store) -> None:
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    publish_candidate(store.s3, store.candidate, "churn", "1.1.0")
    assert promotion_cli("stage", "churn", "1.0.0").code == 0
    written = store.record_bytes()
    refused(promotion_cli("stage", "churn", "1.1.0"), "staged promote to 1.0.0", "not applied", "discard churn")
    assert store.record_bytes() == written
    assert promotion_cli("discard", "churn").code == 0
    assert load(store.record, "local").history("churn") == ()
    assert promotion_cli("stage", "churn", "1.1.0").code == 0


def test_an_entry_whose_copy_was_already_made_is_not_discarded(promotion_cli: Cli, store: Store) -> None:
    """An apply that copied the archive but stopped before the pointer: discarding would orphan the copy."""
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    assert promotion_cli("stage", "churn", "1.0.0").code == 0
    store.s3.copy_object(
        Bucket=store.production,
        Key="models/churn/1.0.0/model.tar.gz",
        CopySource=f"{store.candidate}/models/churn/1.0.0/model.tar.gz",
    )
    written = store.record_bytes()
    refused(promotion_cli("discard", "churn"), "was copied by an apply that did not finish", "finish it")
    assert store.record_bytes() == written


def test_a_version_already_in_production_is_refused(promotion_cli: Cli, store: Store) -> None:
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    assert promotion_cli("stage", "churn", "1.0.0", "--approver", "ana@example.com").code == 0
    applied(store, "churn")
    written = store.record_bytes()
    for command in ("check", "stage"):
        refused(promotion_cli(command, "churn", "1.0.0"), "churn 1.0.0 is already in production", "ana@example.com")
    assert store.record_bytes() == written
    refused(promotion_cli("discard", "churn"), "no staged entry")


def test_rollback_needs_an_earlier_production_version(promotion_cli: Cli, store: Store) -> None:
    refused(promotion_cli("rollback", "churn"), "churn has never been promoted")
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    assert promotion_cli("stage", "churn", "1.0.0").code == 0
    applied(store, "churn")
    written = store.record_bytes()
    refused(promotion_cli("rollback", "churn"), "no earlier production version", "1.0.0 is the oldest")
    assert store.record_bytes() == written


def test_rollback_stages_the_previous_version_once(promotion_cli: Cli, store: Store) -> None:
    for version in ("1.0.0", "1.1.0"):
        publish_candidate(store.s3, store.candidate, "churn", version)
        assert promotion_cli("stage", "churn", version).code == 0
        applied(store, "churn")
        # Terraform would have copied it; rollback checks the earlier copy is in production.
        store.s3.copy_object(
            Bucket=store.production,
            Key=f"models/churn/{version}/model.tar.gz",
            CopySource=f"{store.candidate}/models/churn/{version}/model.tar.gz",
        )
    outcome = promotion_cli("rollback", "churn", "--reason", "1.1.0 misroutes churners")
    assert outcome.code == 0 and "rollback churn 1.1.0 -> 1.0.0" in outcome.out
    assert promotion_cli("rollback", "churn").code == 0  # already staged: no second entry
    record = load(store.record, "local")
    assert [(e.action, e.version) for e in record.history("churn")] == [
        ("promote", "1.0.0"),
        ("promote", "1.1.0"),
        ("rollback", "1.0.0"),
    ]
    assert record.production("churn").version == "1.0.0"  # type: ignore[union-attr]
    history = promotion_cli("history", "churn")
    assert history.code == 0
    assert "<- production" in history.out and "(staged, not applied)" in history.out
    assert "reason: 1.1.0 misroutes churners" in history.out


def test_a_record_behind_production_is_refused(promotion_cli: Cli, store: Store) -> None:
    """Production serves promotion 2 (another checkout promoted it); this record only knows promotion 1."""
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    publish_candidate(store.s3, store.candidate, "churn", "1.1.0")
    assert promotion_cli("stage", "churn", "1.0.0").code == 0
    stale = store.record_bytes()
    applied(store, "churn")
    assert promotion_cli("stage", "churn", "1.1.0").code == 0
    applied(store, "churn")
    assert stale is not None
    store.record.write_bytes(stale)
    refused(promotion_cli("stage", "churn", "1.1.0"), "production serves churn 1.1.0 (promotion 2", "behind")
    refused(promotion_cli("plan"), "behind")
    assert store.record_bytes() == stale


@pytest.mark.parametrize(
    ("reason", "problem"),
    [("${aws_s3_bucket.x.arn}", "Terraform template"), ("x" * 501, "at most 500"), ("two\nlines", "one line")],
)
def test_unusable_reasons_are_refused(promotion_cli: Cli, store: Store, reason: str, problem: str) -> None:
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    refused(promotion_cli("stage", "churn", "1.0.0", "--reason", reason), problem)
    assert store.record_bytes() is None


def test_dev_and_prod_promotions_must_give_a_reason(
    promotion_cli: Cli, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENV", "dev")
    for command in (("stage", "churn", "1.0.0"), ("rollback", "churn"), ("promote", "churn", "1.0.0")):
        refused(promotion_cli(*command), "--reason is required in dev")


def test_verify_names_what_production_lacks(promotion_cli: Cli, store: Store) -> None:
    refused(promotion_cli("verify", "churn"), "churn has never been promoted in local")
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    assert promotion_cli("stage", "churn", "1.0.0").code == 0
    refused(promotion_cli("verify", "churn"), "models/churn/production.json does not exist")
    applied(store, "churn")
    refused(promotion_cli("verify", "churn"), "models/churn/1.0.0/model.tar.gz does not exist")


def test_apply_without_a_saved_plan_says_to_plan_first(promotion_cli: Cli, store: Store) -> None:
    refused(promotion_cli("apply"), "no saved plan", "plan first")


def test_promote_off_a_terminal_without_yes_refuses_and_takes_its_entry_back(
    promotion_cli: Cli, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No terminal to ask and no YES=1: nothing is applied and the record is as before."""
    publish_candidate(store.s3, store.candidate, "churn", "1.0.0")
    planned: list[str] = []

    class NoChangesYet:
        has_changes = True

    monkeypatch.setattr(
        "promotion.cli.plan", lambda context, summary_file=None, model=None: planned.append(model) or NoChangesYet()
    )
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    refused(promotion_cli("promote", "churn", "1.0.0"), "not a terminal", "YES=1")
    assert planned == ["churn"]  # planned for this model only
    assert load(store.record, "local").history("churn") == ()
