"""Asking a person at the terminal before something changes (`make promote`, `make bootstrap`)."""

from __future__ import annotations

import sys
from collections.abc import Callable


def confirmation(assume_yes: bool, refuse: Callable[[str], Exception], yes_hint: str) -> Callable[[str], bool]:
    """A `confirm(question) -> bool` that answers yes when `assume_yes`, else asks on the terminal (y/yes is yes).

    Off a terminal nobody can answer: it raises `refuse(message)`, the message ending with `yes_hint` (how to say
    yes up front, e.g. "pass --yes")."""

    def confirm(question: str) -> bool:
        if assume_yes:
            return True
        if not sys.stdin.isatty():
            raise refuse(f"not a terminal, so nobody can confirm: {yes_hint}")
        return input(question).strip().lower() in ("y", "yes")

    return confirm
