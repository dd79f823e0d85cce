"""PatchExtension and the reference-counted registry, on throwaway classes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension, activate, active_names, deactivate


class Target:
    def greet(self) -> str:
        return "hello"

    @staticmethod
    def helper() -> int:
        return 1


ORIGINAL_GREET = vars(Target)["greet"]
ORIGINAL_HELPER = vars(Target)["helper"]


class Shout(PatchExtension):
    name = "test-shout"

    def __init__(self) -> None:
        super().__init__()
        self.installs = 0

    def patches(self) -> Sequence[Patch]:
        return (
            Patch.wrap(Target, "greet", lambda original: lambda self: original(self).upper()),
            Patch.replace(Target, "helper", staticmethod(lambda: 2)),
            Patch.replace(Target, "added", "new"),
        )

    def on_install(self, server: Any) -> None:
        self.installs += 1


def test_install_is_idempotent_and_uninstall_restores_originals() -> None:
    shout = Shout()
    shout.install(server=None)  # type: ignore[arg-type]
    shout.install(server=None)  # type: ignore[arg-type]
    assert Target().greet() == "HELLO"  # wrapped once, not twice
    assert Target.helper() == 2
    assert Target.added == "new"  # type: ignore[attr-defined]
    assert shout.installs == 1

    shout.uninstall()
    shout.uninstall()
    assert vars(Target)["greet"] is ORIGINAL_GREET
    assert vars(Target)["helper"] is ORIGINAL_HELPER  # still the staticmethod object
    assert not hasattr(Target, "added")


def test_registry_installs_once_and_removes_with_last_user() -> None:
    first, second = Shout(), Shout()
    activate(first, server=None)  # type: ignore[arg-type]
    activate(second, server=None)  # type: ignore[arg-type]
    try:
        assert first.installs == 1 and second.installs == 0
        deactivate(second)
        assert "test-shout" in active_names()
        assert Target().greet() == "HELLO"
    finally:
        deactivate(first)
    assert "test-shout" not in active_names()
    assert Target().greet() == "hello"
