"""The promotion record: what production serves follows from its entries; a malformed record fails with the
file, model and field named; the tracked records of dev and prod are valid."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from promotion import pointer
from promotion.record import (
    TRACKED_RECORDS,
    Entry,
    PromotionRecord,
    Quality,
    RecordError,
    load,
    parse,
    record_path,
    save,
)

SHA = {version: f"{index:x}" * 64 for index, version in enumerate(("1.0.0", "1.1.0", "1.2.0", "2.0.0"), start=1)}


def entry(version: str, action: str = "promote", **changes: Any) -> Entry:
    base = Entry(
        action=action,
        version=version,
        sha256=SHA[version],
        bytes=1024,
        etag=f'"{SHA[version][:32]}"',
        manifest_sha256="e" * 64,
        training_data_uri="s3://mlp-prod-processed-data/processed/churn/",
        quality=Quality("auc", 0.83, 0.75),
        approved_by="ana",
        approved_at="2026-11-29T22:00:00Z",
        reason="better recall on the Q4 cohort",
        run="https://github.com/example-org/ml-platform/actions/runs/42",
        git_sha="a" * 40,
    )
    return replace(base, **changes)


def record(*entries: tuple[str, Entry]) -> PromotionRecord:
    result = PromotionRecord("prod")
    for model, item in entries:
        result = result.with_entry(model, item)
    return result


def test_production_is_the_newest_promotion_and_a_rollback_returns_to_the_one_before() -> None:
    promotions = record(("churn", entry("1.0.0")), ("churn", entry("1.1.0")), ("churn", entry("1.2.0")))
    assert promotions.production("churn").version == "1.2.0"  # type: ignore[union-attr]
    assert promotions.rollback_target("churn") == "1.1.0"
    rolled = promotions.with_entry("churn", entry("1.1.0", "rollback"))
    current = rolled.production("churn")
    assert current is not None and (current.version, current.sequence, current.entry.action) == ("1.1.0", 4, "rollback")
    # A second rollback keeps going back (it undoes 1.1.0's promotion), never forward to 1.2.0.
    assert rolled.rollback_target("churn") == "1.0.0"
    twice = rolled.with_entry("churn", entry("1.0.0", "rollback"))
    assert twice.production("churn").version == "1.0.0"  # type: ignore[union-attr]
    with pytest.raises(RecordError, match=r"no earlier production version .*1.0.0 is the oldest"):
        twice.rollback_target("churn")


def test_every_version_ever_promoted_keeps_its_first_entry() -> None:
    """The production copy of a version is tagged once, from the promotion that copied it."""
    promotions = record(
        ("churn", entry("1.0.0", approved_by="ana")),
        ("churn", entry("1.1.0", approved_by="bo")),
        ("churn", entry("1.0.0", approved_by="cy")),  # promoted again later: only the pointer moves
    )
    first = promotions.promoted_versions("churn")
    assert list(first) == ["1.0.0", "1.1.0"]
    assert first["1.0.0"].approved_by == "ana"
    assert promotions.production("churn").entry.approved_by == "cy"  # type: ignore[union-attr]


def test_models_are_independent() -> None:
    promotions = record(("churn", entry("1.0.0")), ("fraud", entry("2.0.0")), ("churn", entry("1.1.0")))
    assert [(p.model, p.version, p.sequence) for p in promotions.productions()] == [
        ("churn", "1.1.0", 2),
        ("fraud", "2.0.0", 1),
    ]
    with pytest.raises(RecordError, match=r"fraud .* no earlier production version"):
        promotions.rollback_target("fraud")
    with pytest.raises(RecordError, match="never been promoted"):
        promotions.rollback_target("spam")


def test_a_record_survives_a_save_and_load_unchanged(tmp_path: Path) -> None:
    promotions = record(("churn", entry("1.0.0")), ("churn", entry("1.1.0", reviewed_by=("dee",))))
    path = tmp_path / "prod.json"
    save(promotions, path)
    assert load(path, "prod") == promotions
    assert path.read_text() == promotions.dumps()
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_tracked_records_are_valid_and_the_local_one_lives_in_local_state(tmp_path: Path) -> None:
    for environment in ("dev", "prod"):
        assert record_path(environment) == TRACKED_RECORDS / f"{environment}.json"
        assert load(record_path(environment), environment).environment == environment
    assert record_path("local", tmp_path) == tmp_path / "promotions.json"
    assert load(record_path("local", tmp_path), "local") == PromotionRecord("local")


def test_a_missing_tracked_record_is_an_error_not_an_empty_production(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="missing: it is prod's promotion record"):
        load(tmp_path / "prod.json", "prod")


def document(*items: dict[str, Any], environment: str = "prod") -> dict[str, Any]:
    return {"record_format": 1, "environment": environment, "models": {"churn": list(items)}}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"version": "../1.0.0"}, "churn\\[0\\]: model version '../1.0.0' is invalid"),
        ({"version": "auto"}, "not 'auto'"),
        ({"action": "demote"}, "action 'demote' must be one of promote, rollback"),
        (
            {"artifact": {"sha256": "ABC", "bytes": 1, "etag": '"x"'}},
            "artifact.sha256 'ABC' is not a lowercase hex sha256",
        ),
        ({"artifact": {"sha256": "1" * 64, "bytes": 0, "etag": '"x"'}}, "artifact.bytes 0 must be positive"),
        (
            {"artifact": {"sha256": "1" * 64, "bytes": 1, "etag": "${x}"}},
            "artifact.etag '\\$\\{x}' is not a quoted S3 ETag",
        ),
        ({"approved_by": "ana; rm -rf /"}, "approved_by .* S3 tag value"),
        ({"git_sha": "abc123"}, "git_sha 'abc123' is not a full commit sha"),
        ({"run": "https://evil.example/x"}, "run .* must be 'local' or a workflow run URL"),
        ({"approved_at": "2026-13-40T00:00:00Z"}, "approved_at .* is not a date"),
        ({"reason": "${aws_iam_role.admin.arn}"}, "Terraform template syntax"),
        ({"training_data_uri": "https://x"}, "training_data_uri 'https://x' must be an s3:// URI"),
        ({"colour": "blue"}, "unknown field\\(s\\) colour"),
        ({"quality": {"metric": "auc", "value": "high", "threshold": 0.7}}, "value must be a number"),
    ],
)
def test_a_malformed_entry_names_its_file_model_index_and_field(change: dict[str, Any], problem: str) -> None:
    item = {**entry("1.0.0").to_json(), **change}
    with pytest.raises(RecordError, match=f"^prod.json: {problem}" if problem.startswith("churn") else problem):
        parse(document(item), "prod", where="prod.json")


@pytest.mark.parametrize(
    ("items", "problem"),
    [
        ([entry("1.0.0", "rollback")], "a rollback needs an earlier production version"),
        ([entry("1.0.0"), entry("1.1.0"), entry("1.1.0", "rollback")], "returns to 1.0.0, but the entry names 1.1.0"),
        ([entry("1.0.0"), entry("1.0.0", sha256="f" * 64)], "version 1.0.0 had sha256 .* bytes never change"),
        ([entry("1.0.0"), entry("1.0.0", etag='"other"')], "version 1.0.0 had sha256 .*ETag.* bytes never change"),
        ([], "must be a non-empty list"),
    ],
)
def test_a_history_that_cannot_have_happened_is_refused(items: list[Entry], problem: str) -> None:
    with pytest.raises(RecordError, match=problem):
        parse(document(*(item.to_json() for item in items)), "prod", where="prod.json")


def test_a_record_of_another_environment_or_format_is_refused() -> None:
    with pytest.raises(RecordError, match="environment is 'dev', expected 'prod'"):
        parse(document(entry("1.0.0").to_json(), environment="dev"), "prod", where="prod.json")
    with pytest.raises(RecordError, match="record_format must be 1"):
        parse({**document(), "record_format": 2}, "prod", where="prod.json")
    with pytest.raises(RecordError, match="model name 'Churn'"):
        parse({**document(), "models": {"Churn": [entry("1.0.0").to_json()]}}, "prod", where="prod.json")


def test_a_new_entry_is_checked_before_it_joins_the_record() -> None:
    with pytest.raises(RecordError, match="new churn entry: approved_by"):
        PromotionRecord("prod").with_entry("churn", entry("1.0.0", approved_by="a" * 129))


def test_the_pointer_names_the_production_version_its_bytes_and_the_entry_behind_it() -> None:
    promotions = record(("churn", entry("1.0.0")), ("churn", entry("1.1.0")), ("churn", entry("1.0.0", "rollback")))
    current = promotions.production("churn")
    assert current is not None
    text = pointer.dumps(pointer.for_production(current))
    parsed = pointer.parse_pointer(text, "churn")
    assert (parsed.version, parsed.sha256, parsed.sequence) == ("1.0.0", SHA["1.0.0"], 3)
    assert parsed.artifact_key == "models/churn/1.0.0/model.tar.gz"
    assert parsed.document["promotion"]["action"] == "rollback"
    assert text == pointer.dumps(json.loads(text))  # deterministic bytes: no perpetual diff


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d.update(format="other"), "format is 'other'"),
        (lambda d: d.update(model="fraud"), "names model 'fraud', expected 'churn'"),
        (lambda d: d["artifact"].update(key="models/churn/../x"), "artifact.key"),
        (lambda d: d["artifact"].update(sha256="nope"), "artifact.sha256 'nope'"),
        (lambda d: d["promotion"].update(sequence=0), "promotion.sequence 0"),
    ],
)
def test_a_reader_refuses_a_pointer_it_cannot_trust(mutate: Any, problem: str) -> None:
    current = record(("churn", entry("1.0.0"))).production("churn")
    assert current is not None
    document_ = pointer.for_production(current)
    mutate(document_)
    with pytest.raises(pointer.PointerError, match=problem):
        pointer.parse_pointer(json.dumps(document_), "churn")


def test_a_deploy_refuses_entries_production_does_not_serve_yet() -> None:
    """Only promotion applies promotions: a deploy would skip the check, the approval and the verification."""
    from promotion.deployed import ProductionStateError, check_nothing_pending, pending_entries

    promotions = record(("churn", entry("1.0.0")), ("churn", entry("1.1.0")), ("fraud", entry("2.0.0")))
    churn = pointer.parse_pointer(
        pointer.dumps(pointer.for_production(record(("churn", entry("1.0.0"))).production("churn")))
    )  # type: ignore[arg-type]
    assert [e.version for e in pending_entries(promotions, {"churn": churn}, "churn")] == ["1.1.0"]
    with pytest.raises(
        ProductionStateError, match=r"2 promotion entries .*promote churn 1\.1\.0, promote fraud 2\.0\.0"
    ):
        check_nothing_pending(promotions, {"churn": churn}, "prod.json")
    applied = record(("churn", entry("1.0.0")))
    check_nothing_pending(applied, {"churn": churn}, "prod.json")
