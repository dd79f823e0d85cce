"""Deploy or destroy every stack of one environment with the pinned cdktf CLI.

    python -m tooling.deploy deploy|destroy      (ENV selects the environment; make sets it)

Runs `cdktf <action> '<env>-*' --auto-approve`, streaming its output, and ends with one
line per stack: what Terraform changed ("no changes" on a re-run). For `local` it checks
the emulator answers first and gives Terraform dummy credentials, so no real AWS
credentials from the caller's shell are ever used against it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import platform_config
from emulator.health import is_healthy
from platform_config import EnvironmentConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
# cdktf prefixes each line with the stack name; continuation lines are only indented.
_STACK_PREFIX = re.compile(r"^(?P<stack>[A-Za-z0-9_-]+)\s{2}")
_APPLY = re.compile(r"(?:Apply|Destroy) complete! Resources: (?P<summary>.+?)\.?\s*$")
_NO_CHANGES = re.compile(r"No changes\. ")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class StackResult:
    stack: str
    summary: str  # e.g. "27 added, 0 changed, 0 destroyed" or "no changes"

    @property
    def changed(self) -> bool:
        return self.summary != "no changes"


def outputs_file(config: EnvironmentConfig) -> Path:
    """Where `cdktf deploy` writes the stacks' outputs (git-ignored)."""
    return REPO_ROOT / ".state" / config.name / "outputs.json"


def cdktf_command(action: str, config: EnvironmentConfig, skip_provider_lock: bool) -> list[str]:
    """The cdktf CLI call for `action` on every stack of `config`'s environment."""
    command = ["npx", "--no-install", "cdktf", action, f"{config.name}-*", "--auto-approve"]
    if skip_provider_lock:
        command.append("--skip-provider-lock")
    if action == "deploy":
        command += ["--outputs-file", str(outputs_file(config))]
    return command


def command_environment(config: EnvironmentConfig, base: Mapping[str, str]) -> dict[str, str]:
    """Environment for the CLI: plain progress lines; dummy credentials for the emulator."""
    env = dict(base)
    env["CI"] = "1"  # cdktf prints plain lines instead of redrawing a spinner
    env["ENV"] = config.name
    if config.is_local:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            env.pop(name, None)
        env.update(
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_REGION=config.region,
            AWS_DEFAULT_REGION=config.region,
        )
    return env


def parse_results(lines: Iterable[str]) -> list[StackResult]:
    """One result per stack from cdktf's output (last word wins for each stack)."""
    results: dict[str, str] = {}
    stack = None
    for raw in lines:
        line = _ANSI.sub("", raw)
        if prefix := _STACK_PREFIX.match(line):
            stack = prefix["stack"]
        if stack is None:
            continue
        if _NO_CHANGES.search(line):
            results[stack] = "no changes"
        elif match := _APPLY.search(line):
            summary = match["summary"]
            results[stack] = "no changes" if summary == "0 added, 0 changed, 0 destroyed" else summary
    return [StackResult(stack, summary) for stack, summary in sorted(results.items())]


def run(
    action: str, config: EnvironmentConfig, *, environ: Mapping[str, str] | None = None, stream=sys.stdout
) -> list[StackResult]:
    """Run the cdktf action, echoing its output to `stream`; raise on failure."""
    environ = os.environ if environ is None else environ
    if config.is_local and not is_healthy(config.emulator_url):
        raise RuntimeError(f"the local emulator is not answering at {config.emulator_url}; run `make emulator`")
    if action == "destroy" and not config.is_local:
        raise RuntimeError(
            f"refusing to destroy {config.name}: its buckets and keys are prevent_destroy; "
            "remove the protection in a reviewed change first"
        )
    outputs_file(config).parent.mkdir(parents=True, exist_ok=True)
    command = cdktf_command(action, config, bool(environ.get("CDKTF_SKIP_PROVIDER_LOCK")))
    lines: list[str] = []
    with subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=command_environment(config, environ),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=1,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            stream.write(line)
            stream.flush()
    if process.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed with exit code {process.returncode}")
    return parse_results(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy or destroy every stack of $ENV.")
    parser.add_argument("action", choices=("deploy", "destroy"))
    args = parser.parse_args(argv)
    try:
        config = platform_config.load()
        results = run(args.action, config)
    except (platform_config.ConfigError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"\n{args.action} of {config.name}:")
    for result in results:
        print(f"  {result.stack}: {result.summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
