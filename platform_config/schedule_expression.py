"""Check EventBridge schedule expressions at synth: `cron(...)` with AWS's six fields, or `rate(...)`.

AWS accepts a bad expression only to fail at apply time (or, for a rule, never to fire), so the config
check names the field that is wrong:

    cron(minutes hours day-of-month month day-of-week year)   e.g. cron(0 3 ? * MON *)
    rate(value unit)                                          e.g. rate(12 hours), rate(1 day)

Day-of-month and day-of-week cannot both be given: exactly one of them is `?`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_RATE = re.compile(r"^rate\((?P<value>\S+) (?P<unit>\S+)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
_RATE_UNITS = ("minute", "hour", "day")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # month/day names, numbered from `low`
    specials: str = ""  # what else the field accepts: ? L W #

    def value(self, text: str) -> int:
        """One value of the field (a number or a name), within bounds."""
        if text.upper() in self.names:
            return self.names.index(text.upper()) + self.low
        if not text.isdigit():
            raise ValueError(f"{self.name} field: {text!r} is not a number" + (" or a name" if self.names else ""))
        number = int(text)
        if not self.low <= number <= self.high:
            raise ValueError(f"{self.name} field: {number} is out of range {self.low}-{self.high}")
        return number

    def check(self, text: str) -> None:
        for part in text.split(","):
            self._check_part(part, whole=text)

    def _check_part(self, part: str, *, whole: str) -> None:
        if part == "*":
            return
        if part == "?":
            if "?" not in self.specials:
                raise ValueError(f"{self.name} field: '?' is allowed only in day-of-month or day-of-week")
            if whole != "?":
                raise ValueError(f"{self.name} field: '?' cannot be combined with other values")
            return
        if "L" in self.specials and self._is_last(part):
            return
        if "W" in self.specials and part.endswith("W") and part[:-1].isdigit():
            self.value(part[:-1])
            return
        if "#" in self.specials and "#" in part:
            day, _, nth = part.partition("#")
            self.value(day)
            if not (nth.isdigit() and 1 <= int(nth) <= 5):
                raise ValueError(f"{self.name} field: {part!r}: the week after '#' must be 1-5")
            return
        base, slash, step = part.partition("/")
        if slash and not (step.isdigit() and int(step) > 0):
            raise ValueError(f"{self.name} field: {part!r}: the increment after '/' must be a positive number")
        if base == "*" and slash:
            return
        start, dash, end = base.partition("-")
        first = self.value(start)
        if dash and self.value(end) < first:
            raise ValueError(f"{self.name} field: range {base!r} ends before it starts")

    def _is_last(self, part: str) -> bool:
        if part in ("L", "LW") and self.name == "day-of-month":
            return True
        if self.name == "day-of-week" and part.endswith("L") and part != "L":
            self.value(part[:-1])
            return True
        return part == "L"


_CRON_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31, specials="?LW"),
    _Field("month", 1, 12, names=_MONTHS),
    _Field("day-of-week", 1, 7, names=_DAYS, specials="?L#"),
    _Field("year", 1970, 2199),
)


def schedule_expression_problem(expression: str) -> str | None:
    """Why `expression` is not a valid EventBridge cron() or rate() expression, or None."""
    try:
        check_schedule_expression(expression)
    except ValueError as exc:
        return str(exc)
    return None


def check_schedule_expression(expression: str) -> None:
    """Raise ValueError naming the wrong part of a cron() or rate() expression."""
    rate = _RATE.match(expression)
    if rate:
        return _check_rate(rate["value"], rate["unit"])
    cron = _CRON.match(expression)
    if not cron:
        raise ValueError("must be cron(<6 fields>) or rate(<value> <unit>), e.g. cron(0 3 ? * MON *) or rate(1 day)")
    fields = cron["fields"].split()
    if len(fields) != len(_CRON_FIELDS):
        names = " ".join(field.name for field in _CRON_FIELDS)
        raise ValueError(f"cron() needs 6 fields ({names}), got {len(fields)}")
    for field, text in zip(_CRON_FIELDS, fields, strict=True):
        field.check(text)
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError(
            f"day-of-month {day_of_month!r} and day-of-week {day_of_week!r}: exactly one of them must be '?'"
        )


def _check_rate(value: str, unit: str) -> None:
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"rate() value {value!r} must be a positive whole number")
    singular = unit.removesuffix("s")
    if singular not in _RATE_UNITS:
        raise ValueError(f"rate() unit {unit!r} must be minute(s), hour(s) or day(s)")
    expected = singular if int(value) == 1 else f"{singular}s"
    if unit != expected:
        raise ValueError(f"rate() unit {unit!r} must be {expected!r} for the value {value}")
