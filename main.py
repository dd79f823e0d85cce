"""CDKTF entry point: synthesize the stacks of one environment ($ENV, default local).

`cdktf synth|deploy` runs this (see cdktf.json). A bad configuration, a malformed promotion record or a
policy violation ends it with a one-line error and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys

import platform_config


def main() -> int:
    try:
        config = platform_config.load()
    except platform_config.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Imported after validation so that a config error is reported without loading jsii.
    from promotion.record import RecordError
    from stacks.app import build_app

    try:
        platform = build_app(config)
    except RecordError as exc:
        print(f"error: promotion record: {exc}", file=sys.stderr)
        return 2
    try:
        platform.app.synth()
    except RuntimeError:
        if not platform.guard.violations:
            raise
        for violation in platform.guard.violations:
            print(f"error: policy check: {violation}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
