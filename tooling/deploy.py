"""Deploy or destroy every stack of one environment with the pinned cdktf CLI.

    python -m tooling.deploy deploy|destroy      (ENV selects the environment; make sets it)

Runs `cdktf <action> '<env>-*' --auto-approve`, streaming its output, and ends with one
line per stack: what Terraform changed ("no changes" on a re-run). For `local` it checks
the emulator answers first and gives Terraform dummy credentials, so no real AWS
credentials from the caller's shell are ever used against it. For `dev`/`prod` it stops
with one line (exit 2) when the shell has no AWS credentials. Before deploying it refuses a
promotion record older than what production serves (promotion.deployed.check_not_behind), so no
deploy reverts a promotion. Terraform's per-stack warning about provider checksums for one
platform (expected with the offline mirror) is replaced by one explanatory line at the end.
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

from botocore.exceptions import BotoCoreError, ClientError

import platform_config
from platform_config import EnvironmentConfig
from tooling.aws_clients import client, require_emulator

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
        credentials = config.emulator_credentials
        env.update(
            AWS_ACCESS_KEY_ID=credentials.access_key_id,
            AWS_SECRET_ACCESS_KEY=credentials.secret_access_key,
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


class LockFileWarningFilter:
    """Drops Terraform's "Incomplete lock file information for providers" box from cdktf's output.

    With a provider filesystem mirror, `terraform init` can only hash the provider for this platform,
    and says so for every stack in a 14-line box. It is expected (the lock file under cdktf.out/ is
    regenerated on every run) and explained once instead: `explanation` after the run, if it was seen.
    `feed(line)` returns the lines to print (a box-opening line is held until the next one shows
    whether it opens this box); `flush()` returns a line still held at the end.
    """

    TITLE = "Incomplete lock file information for providers"
    explanation = (
        "note: Terraform warned per stack that .terraform.lock.hcl holds provider checksums for this "
        "platform only: expected with the offline provider mirror (README: Offline provider mirror)."
    )

    def __init__(self) -> None:
        self.seen = False
        self._held: str | None = None
        self._inside = False

    def feed(self, line: str) -> list[str]:
        plain = _ANSI.sub("", line)
        if self._inside:
            self._inside = "╵" not in plain
            return []
        if self._held is not None:
            held, self._held = self._held, None
            if self.TITLE in plain:
                self.seen, self._inside = True, True
                # Keep a stack-name prefix the held line carried (cdktf prints it once per block).
                prefix = _STACK_PREFIX.match(_ANSI.sub("", held))
                return [prefix.group(0).rstrip() + "\n"] if prefix else []
            return [held, *self.feed(line)]
        if plain.rstrip().endswith("╷"):
            self._held = line
            return []
        return [line]

    def flush(self) -> list[str]:
        held, self._held = self._held, None
        return [held] if held is not None else []


class MissingCredentialsError(RuntimeError):
    """dev/prod need AWS credentials in the shell; the message points at the README."""


def check_credentials(config: EnvironmentConfig, environ: Mapping[str, str]) -> None:
    """Raise MissingCredentialsError (one line) unless boto's chain finds credentials for a real account.

    Only resolves them (no network call), so an expired session still reaches Terraform's own error."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        credentials = boto3.Session(profile_name=environ.get("AWS_PROFILE") or None).get_credentials()
    except BotoCoreError as exc:
        raise MissingCredentialsError(
            f"no usable AWS credentials for {config.name} ({exc}); see README: Deploying to a real AWS account"
        ) from exc
    if credentials is None:
        raise MissingCredentialsError(
            f"no AWS credentials for {config.name}: sign in first (e.g. `aws sso login` and AWS_PROFILE); "
            "see README: Deploying to a real AWS account"
        )


def check_promotions_current(config: EnvironmentConfig) -> None:
    """RuntimeError when production serves a promotion that this checkout's record lacks (deploying would put
    production back on an older model: a branch or a merge that predates a promotion), or when the record holds
    entries not applied yet (deploying would promote them without promotion's checks and approval)."""
    from promotion import record
    from promotion.deployed import check_nothing_pending, guard_record

    path = record.record_path(config.name, config.local_state_dir)
    try:
        promotions = record.load(path, config.name)
    except record.RecordError as exc:
        raise RuntimeError(f"promotion record: {exc}") from exc
    name = record.display_path(path)
    deployed = guard_record(client("s3", config), config.resource_name("production-models"), promotions, name)
    check_nothing_pending(promotions, deployed, name)


def check_reachable(config: EnvironmentConfig, environ: Mapping[str, str]) -> None:
    """Before Terraform runs against `config`: `local` needs the emulator answering (RuntimeError), dev/prod need
    AWS credentials in the shell (MissingCredentialsError)."""
    require_emulator(config)
    if not config.is_local:
        check_credentials(config, environ)


def run(
    action: str, config: EnvironmentConfig, *, environ: Mapping[str, str] | None = None, stream=sys.stdout
) -> list[StackResult]:
    """Run the cdktf action, echoing its output to `stream`; raise on failure."""
    environ = os.environ if environ is None else environ
    if action == "destroy" and not config.is_local:
        raise RuntimeError(
            f"refusing to destroy {config.name}: its buckets and keys are prevent_destroy; "
            "remove the protection in a reviewed change first"
        )
    check_reachable(config, environ)
    if action == "deploy":
        check_promotions_current(config)
    outputs_file(config).parent.mkdir(parents=True, exist_ok=True)
    command = cdktf_command(action, config, bool(environ.get("CDKTF_SKIP_PROVIDER_LOCK")))
    lines: list[str] = []
    lock_warnings = LockFileWarningFilter()
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
            stream.writelines(lock_warnings.feed(line))
            stream.flush()
    stream.writelines(lock_warnings.flush())
    if lock_warnings.seen:
        stream.write(lock_warnings.explanation + "\n")
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
    except MissingCredentialsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (platform_config.ConfigError, RuntimeError, BotoCoreError, ClientError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"\n{args.action} of {config.name}:")
    for result in results:
        print(f"  {result.stack}: {result.summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
