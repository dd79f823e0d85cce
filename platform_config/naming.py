"""AWS naming rules checked at synth, so a bad name fails before Terraform talks to AWS."""

from __future__ import annotations

import re

# S3 general-purpose bucket naming rules:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
# Dots are refused too: they break TLS for virtual-hosted-style requests.
_BUCKET_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")

_REGION = re.compile(
    r"^(us|eu|ap|sa|ca|me|af|il|mx)(-gov|-iso|-isob)?-"
    r"(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d{1,2}$"
)
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def bucket_name_problem(name: str) -> str | None:
    """Return why `name` is not a valid S3 bucket name, or None when it is."""
    if not 3 <= len(name) <= 63:
        return f"must be 3-63 characters long, is {len(name)}"
    if not _BUCKET_NAME.match(name):
        return "may contain only lowercase letters, digits and hyphens, and must start and end with a letter or digit"
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with the reserved prefix {prefix!r}"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with the reserved suffix {suffix!r}"
    return None


def is_region(value: str) -> bool:
    """True for an AWS region code such as 'eu-west-1' or 'us-gov-west-1'."""
    return bool(_REGION.match(value))


def is_account_id(value: str) -> bool:
    """True for a 12-digit AWS account id."""
    return bool(_ACCOUNT_ID.match(value))
