"""Deterministic, realistic customer-churn rows (the `churn` dataset of platform_config/datasets.toml).

Distributions follow a typical telecom churn export: most customers on month-to-month contracts, tenure
piled up at both ends, fiber customers paying more and calling support more, and a churn label driven by
contract, tenure, service, payment method and support calls (so a model has something to learn).

Bad rows: with `bad_fraction` (each row independently) or `bad_rows` (exactly K rows at seeded positions),
a row is corrupted with one defect, the kinds taken in turn from DEFECT_KINDS, and tagged with it. Clean
rows do not depend on which rows are bad: row i is the same for a given seed whatever the bad settings.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate, count

COLUMNS = (
    "customer_id",
    "signup_date",
    "tenure_months",
    "monthly_charges",
    "total_charges",
    "contract",
    "payment_method",
    "internet_service",
    "support_calls",
    "region",
    "churned",
)
LABEL = "churned"
# What an inference batch holds: every column but the label the model predicts.
BATCH_COLUMNS = tuple(column for column in COLUMNS if column != LABEL)
SNAPSHOT_DATE = date(2025, 6, 30)

# One kind per validation rule of the schema; every kind is rejected by the processor.
DEFECT_KINDS = (
    "missing_required",
    "out_of_range",
    "not_a_number",
    "bad_enum",
    "bad_date",
    "wrong_field_count",
    "bad_bool",
    "bad_pattern",
)


def _weighted(pairs: tuple[tuple[str, float], ...]) -> tuple[tuple[str, ...], list[float]]:
    return tuple(value for value, _ in pairs), list(accumulate(weight for _, weight in pairs))


CONTRACTS = _weighted((("month-to-month", 0.55), ("one-year", 0.21), ("two-year", 0.24)))
PAYMENTS = _weighted(
    (("electronic-check", 0.34), ("mailed-check", 0.23), ("bank-transfer", 0.22), ("credit-card", 0.21))
)
SERVICES = _weighted((("fiber-optic", 0.44), ("dsl", 0.34), ("none", 0.22)))
REGIONS = _weighted(
    (
        ("north-america", 0.38),
        ("europe", 0.27),
        ("asia-pacific", 0.2),
        ("south-america", 0.09),
        ("middle-east-africa", 0.06),
    )
)
_BASE_CHARGE = {"none": (19.0, 26.0), "dsl": (45.0, 80.0), "fiber-optic": (70.0, 118.0)}
_CONTRACT_RISK = {"month-to-month": 1.1, "one-year": -0.6, "two-year": -1.8}
_SERVICE_RISK = {"fiber-optic": 0.5, "dsl": -0.1, "none": -0.7}


@dataclass(frozen=True)
class SampleRow:
    """One generated row: its fields as written, and the defect injected into it (None when clean)."""

    fields: tuple[str, ...]
    defect: str | None = None


def without_label(sample: SampleRow) -> SampleRow:
    """The row as an inference batch holds it (BATCH_COLUMNS). A defect that was only in the label (a bad bool,
    an emptied label) leaves with it; a row with the wrong field count keeps it."""
    if sample.defect == "wrong_field_count":
        return SampleRow(sample.fields[:-1], sample.defect)
    label_only = sample.defect == "bad_bool" or (sample.defect == "missing_required" and sample.fields[-1] == "")
    return SampleRow(sample.fields[:-1], None if label_only else sample.defect)


def clean_row(index: int, rng: random.Random) -> tuple[str, ...]:
    """Row `index` (0-based) drawn from `rng`; the same rng state gives the same row."""
    choices = rng.choices
    contract = choices(CONTRACTS[0], cum_weights=CONTRACTS[1])[0]
    service = choices(SERVICES[0], cum_weights=SERVICES[1])[0]
    payment = choices(PAYMENTS[0], cum_weights=PAYMENTS[1])[0]
    region = choices(REGIONS[0], cum_weights=REGIONS[1])[0]
    # Longer contracts go with longer tenure; beta(0.6, 0.6) piles tenure up at 0 and 72 months.
    tenure = min(72, int(rng.betavariate(0.6, 0.6) * 73 + (12 if contract == "two-year" else 0)))
    low, high = _BASE_CHARGE[service]
    monthly = round(rng.uniform(low, high), 2)
    total = "" if tenure == 0 else f"{monthly * tenure * rng.uniform(0.93, 1.05):.2f}"
    calls = min(100, int(rng.expovariate(1.0 / (2.4 if service == "fiber-optic" else 1.3))))
    signup = SNAPSHOT_DATE - timedelta(days=tenure * 30 + rng.randrange(30))
    risk = (
        -0.8
        + _CONTRACT_RISK[contract]
        + _SERVICE_RISK[service]
        - 0.045 * tenure
        + 0.32 * calls
        + (0.45 if payment == "electronic-check" else 0.0)
    )
    churned = rng.random() < 1.0 / (1.0 + math.exp(-risk))
    return (
        f"CUST-{index + 1:08d}",
        signup.isoformat(),
        str(tenure),
        f"{monthly:.2f}",
        total,
        contract,
        payment,
        service,
        str(calls),
        region,
        "true" if churned else "false",
    )


def corrupt(fields: tuple[str, ...], kind: str, rng: random.Random) -> tuple[str, ...]:
    """`fields` with one defect of `kind` (one of DEFECT_KINDS)."""
    row = list(fields)
    if kind == "missing_required":
        row[rng.choice((0, 1, 2, 3, 5, 10))] = ""
    elif kind == "out_of_range":
        row[2] = str(-rng.randint(1, 24)) if rng.random() < 0.5 else str(rng.randint(601, 999))
    elif kind == "not_a_number":
        row[3] = rng.choice(("N/A", "twelve", "12,50", "$45.00", "nan"))
    elif kind == "bad_enum":
        row[5] = rng.choice(("weekly", "Month-to-month", "1-year", "lifetime"))
    elif kind == "bad_date":
        row[1] = rng.choice(("2024-02-30", "31/12/2023", "2023-13-01", "yesterday"))
    elif kind == "wrong_field_count":
        return tuple(row[:-2]) if rng.random() < 0.5 else (*row, "extra")
    elif kind == "bad_bool":
        row[10] = rng.choice(("yes", "1", "True", "N"))
    elif kind == "bad_pattern":
        row[0] = rng.choice(("C-12", "cust-00000001", "CUST-12345"))
    else:
        raise ValueError(f"unknown defect kind {kind!r}; expected one of {', '.join(DEFECT_KINDS)}")
    return tuple(row)


def generate_rows(
    n: int | None, seed: int, bad_fraction: float = 0.0, *, bad_rows: int | None = None
) -> Iterator[SampleRow]:
    """Rows 0..n-1 for `seed` (n None: endless). bad_fraction (default 0.0): each row is bad with that
    probability. bad_rows (default None): exactly that many bad rows at seeded positions instead (needs n).
    Defect kinds are used in turn, so K bad rows hold each kind K // 8 or K // 8 + 1 times."""
    if not 0.0 <= bad_fraction <= 1.0:
        raise ValueError(f"bad_fraction {bad_fraction} must be between 0 and 1")
    rows_rng, bad_rng = random.Random(f"churn-rows-{seed}"), random.Random(f"churn-defects-{seed}")
    positions: set[int] | None = None
    if bad_rows is not None:
        if n is None or not 0 <= bad_rows <= n:
            raise ValueError(f"bad_rows {bad_rows} needs a row count n >= bad_rows (n = {n})")
        positions = set(bad_rng.sample(range(n), bad_rows))
    defects = 0
    for index in range(n) if n is not None else count():
        fields = clean_row(index, rows_rng)
        bad = (index in positions) if positions is not None else (bad_fraction > 0 and bad_rng.random() < bad_fraction)
        if bad:
            kind = DEFECT_KINDS[defects % len(DEFECT_KINDS)]
            defects += 1
            yield SampleRow(corrupt(fields, kind, bad_rng), kind)
        else:
            yield SampleRow(fields)
