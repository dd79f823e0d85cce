"""The environment the make targets give cdktf and Terraform, for running them by hand.

    eval "$(make env)"      # or `source .envrc` (direnv users: `direnv allow`), from the repo root
    npx cdktf diff local-data-pipeline

Prints `export NAME=value` lines (stdlib only: it runs before the venv exists):

  TF_PROVIDER_MIRROR              the Terraform provider filesystem mirror, when there is one
                                  ($TF_PROVIDER_MIRROR, else /opt/tf-plugins if it exists; "" = none)
  TF_CLI_CONFIG_FILE              with a mirror: .terraform.d/cli.tfrc, which `make setup` writes
                                  (hashicorp providers from the mirror, the rest from the registry)
  CDKTF_SKIP_PROVIDER_LOCK        with a mirror: true. cdktf deploy/diff/destroy otherwise run
                                  `terraform providers lock`, which ignores mirrors and fails offline
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION
                                  on Node 20 only: 20. jsii prints a banner on every synth because
                                  Node 20 is end-of-life; the toolchain works on it (README, "Versions")
  CHECKPOINT_DISABLE              1: Terraform makes no version-check calls to HashiCorp

The local stacks need no credentials from the shell: their provider sets the emulator's dummy keys.
`--make` prints bare NAME=value lines, which the Makefile exports to every target, so make and a
shell that ran `make env` run cdktf with the same settings.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from tooling.terraform_toolchain import NODE_END_OF_LIFE_MAJORS, node_version, parse_version

REPO_ROOT = Path(__file__).resolve().parent.parent
CLI_CONFIG_FILE = REPO_ROOT / ".terraform.d" / "cli.tfrc"
DEFAULT_MIRROR = Path("/opt/tf-plugins")


def provider_mirror(environ: Mapping[str, str], default: Path = DEFAULT_MIRROR) -> Path | None:
    """$TF_PROVIDER_MIRROR when set (empty: no mirror), else `default` if that directory exists."""
    if "TF_PROVIDER_MIRROR" in environ:
        configured = environ["TF_PROVIDER_MIRROR"].strip()
        return Path(configured) if configured else None
    return default if default.is_dir() else None


def node_major(node: str = "node") -> str | None:
    """The major version of `node` on PATH ("20"), or None when there is no node."""
    version = node_version(node)
    return str(parse_version(version)[0]) if version else None


def settings(environ: Mapping[str, str], node: str | None) -> dict[str, str]:
    """The variables to export, given the caller's environment and the Node major version."""
    values = {"CHECKPOINT_DISABLE": "1"}
    mirror = provider_mirror(environ)
    if mirror is not None:
        values["TF_PROVIDER_MIRROR"] = str(mirror)
        values["TF_CLI_CONFIG_FILE"] = str(CLI_CONFIG_FILE)
        values["CDKTF_SKIP_PROVIDER_LOCK"] = "true"
    if node in {str(major) for major in NODE_END_OF_LIFE_MAJORS}:
        values["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = node
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make", action="store_true", help="print NAME=value lines for the Makefile")
    args = parser.parse_args(argv)
    values = settings(os.environ, node_major())
    if args.make:
        print("\n".join(f"{name}={value}" for name, value in values.items()))
        return 0
    print("# cdktf/terraform by hand with the settings make uses (README: Using cdktf directly)")
    for name, value in values.items():
        print(f"export {name}={shlex.quote(value)}")
    if "TF_CLI_CONFIG_FILE" in values and not CLI_CONFIG_FILE.exists():
        print(f"echo 'note: {CLI_CONFIG_FILE.name} is written by `make setup`; run it once' >&2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
