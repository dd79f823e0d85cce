"""The plan report's Markdown on hand-made reports: the cases real plans rarely give (tests/emulator/test_plan_report.py
renders real ones): values that would break the Markdown, deferred and output-only stacks, a report with no plan,
and a summary that alone exceeds the limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tooling import plan_markdown, plan_report
from tooling.plan_diff import AttributeChange, attribute_changes
from tooling.plan_report import CheckovSummary, EnvironmentReport, ResourceChange, StackReport


def report(*stacks: StackReport, environment: str = "dev") -> EnvironmentReport:
    return EnvironmentReport(environment, stacks, CheckovSummary(passed=3))


def test_a_value_with_backticks_cannot_close_the_details_code_block() -> None:
    value = '"```\\n</details> | `x`"'
    change = ResourceChange("aws_s3_object.x", "aws_s3_object", "update", (AttributeChange("content", '"a"', value),))
    text = plan_markdown.render([report(StackReport("dev-a", "planned", (change,)))], context="")
    block = text[text.index("<details>") : text.index("</details>\n", text.index("<details>"))]
    fence = "````diff"
    assert fence in block and block.rstrip().endswith("````")


def test_an_error_line_with_pipes_and_backticks_stays_in_its_table_cell() -> None:
    stack = StackReport("dev-a", "error", error="Error: bad `value` | other\n\nmore")
    text = plan_markdown.render([report(stack)], context="")
    assert "| `dev-a` | | | | | ❌ Error: bad 'value' \\| other |" in text


def test_deferred_and_output_only_stacks_say_what_they_are() -> None:
    deferred = StackReport("dev-b", "deferred", error="Error: Unable to find remote state", waits_on=("dev-a",))
    outputs = StackReport("dev-c", "planned", output_changes=("bucket_name",))
    text = plan_markdown.render([report(deferred, outputs)], context="")
    assert "| `dev-b` | | | | | ⏳ planned at deploy, after `dev-a` |" in text
    assert "`dev-b` reads outputs that `dev-a` do not have yet" in text
    assert "| `dev-c` | 0 | 0 | 0 | 0 | outputs only |" in text
    assert "failed to plan" not in text


def test_an_environment_without_a_plan_says_why() -> None:
    missing = EnvironmentReport("prod", (), error="no plan report: the plan job stopped before planning (see its log)")
    text = plan_markdown.render([report(), missing], context="")
    assert "### `prod`: ❌ not planned" in text
    assert "the plan job stopped before planning" in text


def test_a_summary_alone_over_the_limit_is_cut_at_a_line_with_its_code_block_closed() -> None:
    stack = StackReport("dev-a", "error", error="Error: x\n" + "\n".join(f"line {n}" for n in range(400)))
    text = plan_markdown.render([report(stack)], limit=1_000, context="")
    assert len(text) <= 1_000
    assert text.endswith("the job summary holds all of it.**\n")
    assert text.count("```") % 2 == 0  # the error's block is closed before the note


def test_render_merges_saved_reports_in_the_expected_order_and_names_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "plan-prod").mkdir()
    (tmp_path / "plan-prod" / "plan-report-prod.json").write_text(report(environment="prod").to_json())
    out = tmp_path / "comment.md"
    code = plan_report.main(["render", "--expect", "dev", "--expect", "prod", "--out", str(out), str(tmp_path)])
    text = out.read_text()
    assert code == 0  # also for failed plans: the comment must show them
    assert text.index("### `dev`: ❌ not planned") < text.index("### `prod`: 0 of 0 stacks change")


def test_render_without_any_report_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert plan_report.main(["render", str(tmp_path)]) == plan_report.EXIT_USAGE
    assert "no plan report given or found" in capsys.readouterr().err


def test_a_folder_the_download_never_made_still_renders_the_expected_environments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both plan jobs stopped before uploading: the comment must still replace the previous push's plans."""
    out = tmp_path / "comment.md"
    code = plan_report.main(
        ["render", "--expect", "dev", "--expect", "prod", "--out", str(out), str(tmp_path / "plans")]
    )
    assert code == 0
    assert out.read_text().count("❌ not planned") == 2
    assert "plans does not exist: no plan report there" in capsys.readouterr().err


def test_attribute_changes_mask_a_value_sensitive_on_either_side_and_name_what_forces_a_replacement() -> None:
    change = {
        "actions": ["delete", "create"],
        "before": {"name": "old", "password": "hunter2", "tags": {"team": "a"}},
        "after": {"name": "new", "password": "hunter3", "tags": {"team": "a"}, "arn": None},
        "before_sensitive": {"password": True},
        "after_sensitive": {},
        "after_unknown": {"arn": True},
        "replace_paths": [["name"]],
    }
    # A replacement leaves out what the new object only gets after apply (its arn); an update keeps it.
    assert attribute_changes(change) == [
        AttributeChange("name", '"old"', '"new"', forces_replacement=True),
        AttributeChange("password", "(sensitive)", "(sensitive)"),
    ]
    update = {**change, "actions": ["update"], "replace_paths": []}
    assert AttributeChange("arn", "null", "(known after apply)") in attribute_changes(update)


def test_tags_all_is_left_out_where_tags_shows_the_same_change() -> None:
    change = {
        "actions": ["update"],
        "before": {"tags": {"team": "a"}, "tags_all": {"team": "a", "project": "x"}},
        "after": {"tags": {"team": "b"}, "tags_all": {"team": "b", "project": "y"}},
    }
    assert [a.path for a in attribute_changes(change)] == ["tags.team", "tags_all.project"]
