"""Check the Terraform and Node.js binaries and write the project's Terraform CLI config.

`make setup` runs this with the system Python (stdlib only, before the venv exists):

    python3 -m tooling.terraform_toolchain --config-out .terraform.d/cli.tfrc [--mirror DIR]

With a provider mirror (a directory in the unpacked filesystem-mirror layout, e.g.
registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/), the config makes Terraform
install hashicorp providers from it and everything else from the registry. Without one,
no config is written and Terraform uses the registry as usual.

Node.js: the cdktf CLI and jsii need Node >= 20. Node 20 works but is end-of-life, and jsii then
prints an end-of-life banner on every synth; make (and `make env`) silence it for Node 20 only,
and this check says so once. Node 22 LTS needs nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

MINIMUM_VERSION = (1, 10, 0)  # S3 backend native locking (use_lockfile) needs 1.10
INSTALL_URL = "https://developer.hashicorp.com/terraform/install"
NODE_MINIMUM_MAJOR = 20  # cdktf-cli 0.21 and jsii
NODE_END_OF_LIFE_MAJORS = (20,)  # still runs the toolchain; jsii warns on every run
NODE_INSTALL_URL = "https://nodejs.org/en/download"


class ToolchainError(RuntimeError):
    """The toolchain is missing or too old; the message says how to fix it."""


def parse_version(text: str) -> tuple[int, int, int]:
    """'1.11.4' -> (1, 11, 4); pre-release suffixes are ignored."""
    parts = text.lstrip("v").split("-")[0].split(".")
    try:
        major, minor, patch = (int(p) for p in ([*parts, "0", "0"])[:3])
    except ValueError as exc:
        raise ToolchainError(f"cannot read terraform version {text!r}") from exc
    return major, minor, patch


def check_terraform(binary: str = "terraform") -> str:
    """Return the installed Terraform version, or raise ToolchainError saying what to do."""
    path = shutil.which(binary)
    minimum = ".".join(map(str, MINIMUM_VERSION))
    if path is None:
        raise ToolchainError(f"terraform is not on PATH; install Terraform >= {minimum}: {INSTALL_URL}")
    result = subprocess.run([path, "version", "-json"], capture_output=True, text=True, check=False)
    try:
        version = json.loads(result.stdout)["terraform_version"]
    except (json.JSONDecodeError, KeyError) as exc:
        raise ToolchainError(f"`{path} version -json` gave no version: {result.stderr.strip()}") from exc
    if parse_version(version) < MINIMUM_VERSION:
        raise ToolchainError(f"terraform {version} at {path} is too old; install >= {minimum}: {INSTALL_URL}")
    return version


def node_version(binary: str = "node") -> str | None:
    """What `node --version` prints ("v20.20.2"), or None when there is no node on PATH."""
    path = shutil.which(binary)
    if path is None:
        return None
    result = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)
    return result.stdout.strip() or None


def check_node(binary: str = "node") -> str:
    """Return a one-line description of the Node.js on PATH, or raise ToolchainError saying what to do."""
    version = node_version(binary)
    if version is None:
        raise ToolchainError(f"node is not on PATH; install Node.js 22 LTS: {NODE_INSTALL_URL}")
    major = parse_version(version)[0]
    if major < NODE_MINIMUM_MAJOR:
        raise ToolchainError(f"node {version} is too old; install Node.js 22 LTS: {NODE_INSTALL_URL}")
    if major in NODE_END_OF_LIFE_MAJORS:
        return (
            f"node {version} (end-of-life: works; make silences jsii's end-of-life banner for it, "
            "Node 22 LTS is recommended)"
        )
    return f"node {version}"


def render_cli_config(mirror: Path) -> str:
    """A CLI config that takes hashicorp providers from `mirror`, the rest from the registry."""
    return (
        "# Written by `make setup` (tooling/terraform_toolchain.py); do not edit.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        "}\n"
    )


def write_cli_config(mirror: Path, destination: Path) -> bool:
    """Write the config for `mirror` to `destination`; return True if the file changed."""
    if not (mirror / "registry.terraform.io").is_dir():
        raise ToolchainError(f"provider mirror {mirror} has no registry.terraform.io/ directory")
    content = render_cli_config(mirror.resolve())
    if destination.exists() and destination.read_text(encoding="utf-8") == content:
        return False
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(content, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, help="provider filesystem mirror (optional)")
    parser.add_argument("--config-out", type=Path, required=True, help="where to write the CLI config")
    parser.add_argument(
        "--report", type=Path, help="print the findings only when they differ from this file's (then update it)"
    )
    args = parser.parse_args(argv)
    try:
        lines = [check_node()]
        version = check_terraform()
        if args.mirror:
            write_cli_config(args.mirror, args.config_out)
            lines.append(f"terraform {version}; provider mirror {args.mirror} (Terraform CLI config {args.config_out})")
        else:
            lines.append(f"terraform {version}; no provider mirror, providers come from the registry")
    except ToolchainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report = "\n".join(lines) + "\n"
    if args.report is None or not args.report.exists() or args.report.read_text(encoding="utf-8") != report:
        print(report, end="")
        if args.report is not None:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
