"""The Markdown of one or more environments' plan reports, within a length limit.

    render(reports, title=..., limit=COMMENT_LIMIT, context="") -> str

Layout, in the order a reviewer reads it:
1. the title and where the plan comes from (commit, run);
2. a CAUTION block listing every destroy or replacement of a stateful resource (tooling.plan_report.STATEFUL_TYPES)
   and what it loses;
3. per environment, a table with one row per stack: add / change / destroy / replace counts, "no changes", or
   the error (its Terraform `Error:` lines follow the table), notes on stacks planned against a dependency with
   pending changes, and checkov's result;
4. per stack with changes, a collapsed `<details>` block: one line per resource and its changed attributes
   (sensitive values were masked when the report was made).

GitHub refuses a comment over 65,536 characters. Only part 4 is ever shortened, in steps: long values cut, then
at most 20 attributes per resource, then resources without attributes, then whole stacks' details left out with a
note pointing at the job summary (whose limit is 1 MiB) and the plan artifact.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tooling.plan_report import STATEFUL_TYPES, EnvironmentReport, ResourceChange, StackReport

# GitHub's comment and issue limit is 65,536 characters; room is left for the hidden marker line the GitHub client
# adds and the drift issue's lead paragraph (tooling.drift_issue).
COMMENT_LIMIT = 65_536 - 1_024
SUMMARY_LIMIT = 1_000_000  # a job summary may hold 1 MiB per step
DEFAULT_TITLE = "Terraform plan"
_SYMBOLS = {"create": "+", "update": "~", "destroy": "-", "replace": "-/+"}
_VERB_WORDS = {"create": "create", "update": "update in place", "destroy": "destroy", "replace": "replace"}


@dataclass(frozen=True)
class _Detail:
    """How much of each resource's attributes the details show (shortening steps, fullest first)."""

    value_chars: int | None  # None: no attributes at all
    max_attributes: int | None


_STEPS = (_Detail(400, None), _Detail(100, 20), _Detail(None, None))


def ci_context(environ: Mapping[str, str] | None = None) -> str:
    """`Commit abc1234 · [run 42](https://github.com/o/r/actions/runs/42)` inside GitHub Actions, else ""."""
    environ = os.environ if environ is None else environ
    sha = environ.get("GITHUB_SHA", "")
    if not sha:
        return ""
    text = f"Commit `{sha[:7]}`"
    server, repository, run = (
        environ.get(name, "") for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repository and run:
        text += f" · [run {run}]({server}/{repository}/actions/runs/{run})"
    return text


def render(
    reports: Sequence[EnvironmentReport],
    *,
    title: str = DEFAULT_TITLE,
    limit: int = COMMENT_LIMIT,
    context: str | None = None,
) -> str:
    """The report of `reports`, at most `limit` characters (details shortened first, never the summary)."""
    context = ci_context() if context is None else context
    head = _head(reports, title, context)
    detailed = [(report, stack) for report in reports for stack in report.stacks if stack.changes]
    for step in _STEPS:
        text = head + "".join(_details(report, stack, step) for report, stack in detailed)
        if len(text) <= limit:
            return text
    # Leave out whole stacks' details, the longest first, until the rest fits.
    blocks = {stack.stack: _details(report, stack, _STEPS[-1]) for report, stack in detailed}
    omitted: list[str] = []
    for name in sorted(blocks, key=lambda name: -len(blocks[name])):
        omitted.append(name)
        note = (
            f"\n> [!NOTE]\n> The details of {', '.join(f'`{name}`' for name in omitted)} are left out to fit GitHub's "
            "comment limit: the job summary and the uploaded plan hold them.\n"
        )
        kept = "".join(block for block_name, block in blocks.items() if block_name not in omitted)
        text = head + kept + note
        if len(text) <= limit:
            return text
    return _cut(head, limit)


def _cut(head: str, limit: int) -> str:
    """Last resort, for a summary alone over the limit (hundreds of stateful resources): cut at a line end."""
    marker = "\n\n**… the report is cut here: it exceeds GitHub's comment limit; the job summary holds all of it.**\n"
    cut = head[: limit - len(marker) - 20]
    cut = cut[: cut.rfind("\n")]
    # Close a code block the cut left open (an error's text), so the note is not swallowed by it.
    open_fence = None
    for line in cut.splitlines():
        if line.startswith("```"):
            fence = re.match(r"`+", line)[0]  # type: ignore[index]
            open_fence = None if open_fence == fence else (open_fence or fence)
    return cut + (f"\n{open_fence}" if open_fence else "") + marker


def _head(reports: Sequence[EnvironmentReport], title: str, context: str) -> str:
    names = ", ".join(f"`{report.environment}`" for report in reports)
    lines = [f"## {title}: {names}", ""]
    if context:
        lines += [context, ""]
    lossy = [(report, stack, change) for report in reports for stack, change in report.lossy_changes()]
    if lossy:
        lines += [
            "> [!CAUTION]",
            f"> **{len(lossy)} stateful resource{'s' if len(lossy) != 1 else ''} would be destroyed or replaced.** "
            "Its data is lost unless it is moved first; outside `local` `prevent_destroy` stops the apply.",
        ]
        for report, stack, change in lossy:
            why = f", forced by {', '.join(f'`{path}`' for path in change.replaced_by)}" if change.replaced_by else ""
            lines.append(
                f"> - `{report.environment}` · `{stack.stack}`: **{change.verb}** `{change.address}`{why}: "
                f"loses {STATEFUL_TYPES[change.type]}"
            )
        lines.append("")
    for report in reports:
        lines += _environment(report)
    return "\n".join(lines) + "\n"


def _environment(report: EnvironmentReport) -> list[str]:
    if report.error:
        return [f"### `{report.environment}`: ❌ not planned", "", *_fenced(report.error, "text"), ""]
    changed = sum(stack.has_changes for stack in report.stacks)
    failed = sum(stack.failed for stack in report.stacks)
    overview = f"{changed} of {len(report.stacks)} stacks change" + (f", {failed} failed to plan" if failed else "")
    lines = [
        f"### `{report.environment}`: {overview}",
        "",
        "| Stack | Add | Change | Destroy | Replace | Result |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for stack in report.stacks:
        lines.append(_row(stack))
    lines.append("")
    for stack in report.stacks:
        if stack.failed:
            lines += [f"**`{stack.stack}` failed to plan:**", "", *_fenced(stack.error, "text"), ""]
    waiting = [stack for stack in report.stacks if stack.waits_on and not stack.failed]
    for stack in waiting:
        names = ", ".join(f"`{name}`" for name in stack.waits_on)
        if stack.deferred:
            lines.append(
                f"- `{stack.stack}` reads outputs that {names} do not have yet: the deploy plans it after applying "
                "them, and shows that plan before applying it."
            )
        else:
            lines.append(
                f"- `{stack.stack}` was planned against the current outputs of {names}, which change or failed to "
                "plan: the deploy plans it again after applying them."
            )
    if waiting:
        lines.append("")
    lines += _checkov(report)
    return lines


def _row(stack: StackReport) -> str:
    if stack.failed:
        first = stack.error.splitlines()[0] if stack.error else "the plan failed"
        return f"| `{stack.stack}` | | | | | ❌ {_cell(first)} |"
    if stack.deferred:
        after = ", ".join(f"`{name}`" for name in stack.waits_on)
        return f"| `{stack.stack}` | | | | | ⏳ planned at deploy, after {after} |"
    if not stack.has_changes:
        return f"| `{stack.stack}` | | | | | no changes |"
    counts = stack.counts
    lossy = sum(change.loses_data for change in stack.changes)
    result = f"⚠️ loses data ({lossy} stateful)" if lossy else ("outputs only" if not stack.changes else "changes")
    cells = " | ".join(str(counts[verb]) for verb in ("create", "update", "destroy", "replace"))
    return f"| `{stack.stack}` | {cells} | {result} |"


def _checkov(report: EnvironmentReport) -> list[str]:
    checkov = report.checkov
    if checkov.error:
        return [f"checkov: ❌ did not run: {_cell(checkov.error.splitlines()[0])}", ""]
    status = "✅" if checkov.ok else "❌"
    skipped = f", {checkov.skipped} skipped" if checkov.skipped else ""
    lines = [
        f"checkov: {status} {checkov.passed} passed, {len(checkov.failed)} failed{skipped}; "
        f"{len(checkov.skipped_by_config)} checks are off in `.checkov.yaml`, each with its reason",
        "",
    ]
    if checkov.failed:
        shown = checkov.failed[:30]
        lines += [f"- `{_cell(line)}`" for line in shown]
        if len(checkov.failed) > len(shown):
            lines.append(f"- … and {len(checkov.failed) - len(shown)} more (the job log lists them)")
        lines.append("")
    return lines


def _details(report: EnvironmentReport, stack: StackReport, step: _Detail) -> str:
    body: list[str] = []
    for change in stack.changes:
        body += _resource_lines(change, step)
    if stack.output_changes:
        body.append(f"  outputs: {', '.join(stack.output_changes)}")
    summary = f"<code>{report.environment}</code> · <code>{stack.stack}</code>: {stack.summary()}"
    return (
        "\n".join(
            ["<details>", f"<summary>{summary}</summary>", "", *_fenced("\n".join(body), "diff"), "", "</details>", ""]
        )
        + "\n"
    )


def _resource_lines(change: ResourceChange, step: _Detail) -> list[str]:
    warning = "   # loses data" if change.loses_data else ""
    lines = [f"{_SYMBOLS[change.verb]} {change.address} ({_VERB_WORDS[change.verb]}){warning}"]
    if step.value_chars is None or change.verb == "destroy":
        return lines
    attributes = change.attributes
    if step.max_attributes is not None and len(attributes) > step.max_attributes:
        hidden = len(attributes) - step.max_attributes
        attributes = attributes[: step.max_attributes]
    else:
        hidden = 0
    for attribute in attributes:
        after = _short(attribute.after, step.value_chars)
        forced = "   # forces replacement" if attribute.forces_replacement else ""
        if change.verb == "create":
            lines.append(f"      {attribute.path} = {after}")
        else:
            lines.append(f"      {attribute.path}: {_short(attribute.before, step.value_chars)} → {after}{forced}")
    if hidden:
        lines.append(f"      … {hidden} more attributes")
    return lines


def _short(value: str, chars: int) -> str:
    return value if len(value) <= chars else f"{value[:chars]}… ({len(value)} chars)"


def _cell(text: str) -> str:
    """Text safe inside a table cell or inline code: no pipes, backticks or line breaks."""
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _fenced(text: str, language: str) -> list[str]:
    """A code block whose fence is longer than any backtick run in `text`, so a value cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", text, fence]
