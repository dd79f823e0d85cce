"""moto's in-process AWS (`mock_aws`) for the tests that mock boto3, as a process without the emulator has it, and
the clients they talk to it with.

The session's in-process emulator (`emulator_server`, tests/conftest.py) turns on moto's AWS managed IAM policies
for the whole process (emulator/patches/iam_managed_policies.py) and lives until the session ends. moto creates IAM
backends to find the account of every request and rebuilds them on each reset, so while that server lived each
mock_aws world loaded the ~1,500 policies a dozen times: ~2 s per test instead of ~0.3 s. None of these tests uses
IAM; they get moto's own default.

mock_aws also drops boto3's default session, so `boto3.client()` in a world parses the service's model again
(~60 ms per client); `moto_client` makes its clients from one session kept for the process instead.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def mock_aws_without_managed_policies() -> Iterator[None]:
    """`moto.mock_aws()` with moto's default of no AWS managed IAM policies, including its reset on exit; the
    process's setting is restored afterwards."""
    from moto import mock_aws
    from moto.core.config import default_user_config

    saved = default_user_config["iam"]
    default_user_config["iam"] = {**saved, "load_aws_managed_policies": False}
    try:
        with mock_aws():
            yield
    finally:
        default_user_config["iam"] = saved


def moto_client(service: str, region_name: str) -> Any:
    """A new boto3 client of `service` (one per call: nothing registered on a client outlives its test) from the
    process's one session, which keeps botocore's parsed service models, and the fake credentials it first found
    (moto takes any). Inside mock_aws it reaches moto, as a `boto3.client()` does."""
    return _session().client(service, region_name=region_name)


@functools.cache
def _session() -> Any:
    import boto3
    import moto  # noqa: F401 - its request hook is among botocore's built-in handlers before the session exists

    return boto3.session.Session()
