"""PatchExtension, patch kinds and the reference-counted registry, on throwaway classes."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from emulator import EmulatorServer, ExtensionInstallError
from emulator.extension import Patch, PatchExtension, activate, active_names, deactivate

HERE = __name__  # the module name the targets below are reported under


class Target:
    def greet(self) -> str:
        return "hello"

    @staticmethod
    def helper() -> int:
        return 1


class Child(Target):
    pass


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
            Patch.add(Target, "added", "new"),
        )

    def on_install(self, server: Any) -> None:
        self.installs += 1


class Broken(PatchExtension):
    """Wraps ``Target.greet``, then fails on its second patch (built by ``make``)."""

    name = "test-broken"

    def __init__(self, make: Callable[[], Patch]) -> None:
        super().__init__()
        self._make = make
        self.on_install_calls = 0

    def patches(self) -> Sequence[Patch]:
        return (Patch.wrap(Target, "greet", lambda original: lambda self: "patched"), self._make())

    def on_install(self, server: Any) -> None:
        self.on_install_calls += 1


def _assert_untouched() -> None:
    assert vars(Target)["greet"] is ORIGINAL_GREET
    assert vars(Target)["helper"] is ORIGINAL_HELPER
    assert not hasattr(Target, "added")
    assert "greet" not in vars(Child)


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
    _assert_untouched()
    assert vars(Target)["helper"] is ORIGINAL_HELPER  # still the staticmethod object


def test_wrapping_an_inherited_attribute_wraps_it_and_restores_inheritance() -> None:
    class Louder(PatchExtension):
        name = "test-louder"

        def patches(self) -> Sequence[Patch]:
            return (Patch.wrap(Child, "greet", lambda original: lambda self: original(self) + "!"),)

    louder = Louder()
    louder.install(server=None)  # type: ignore[arg-type]
    assert Child().greet() == "hello!"
    assert Target().greet() == "hello"
    louder.uninstall()
    _assert_untouched()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Patch.wrap(Target, "vanished", lambda original: original),
        lambda: Patch.replace(Target, "vanished", "value"),
    ],
    ids=["wrap", "replace"],
)
def test_missing_target_fails_naming_extension_and_target_and_nothing_stays_patched(
    make: Callable[[], Patch],
) -> None:
    broken = Broken(make)
    with pytest.raises(ExtensionInstallError) as failure:
        broken.install(server=None)  # type: ignore[arg-type]
    assert str(failure.value) == (
        f"test-broken: moto target {HERE}.Target.vanished not found; this patch was written for moto 5.2.5"
    )
    _assert_untouched()
    assert not broken.installed
    assert broken.on_install_calls == 0


def test_adding_an_attribute_that_exists_fails_naming_it() -> None:
    broken = Broken(lambda: Patch.add(Target, "helper", "value"))
    with pytest.raises(
        ExtensionInstallError, match=rf"^test-broken: moto target {HERE}\.Target\.helper already exists"
    ):
        broken.install(server=None)  # type: ignore[arg-type]
    _assert_untouched()


def test_an_inherited_attribute_counts_as_existing_for_an_addition() -> None:
    broken = Broken(lambda: Patch.add(Child, "greet", "value"))
    with pytest.raises(ExtensionInstallError, match=r"Child\.greet already exists"):
        broken.install(server=None)  # type: ignore[arg-type]
    _assert_untouched()


def test_add_if_absent_skips_what_moto_defines_and_adds_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    class Optional(PatchExtension):
        name = "test-optional"

        def patches(self) -> Sequence[Patch]:
            return (
                Patch.add_if_absent(Target, "greet", lambda self: "replaced"),
                Patch.add_if_absent(Target, "added", "new"),
            )

    optional = Optional()
    with caplog.at_level(logging.WARNING, logger="emulator"):
        optional.install(server=None)  # type: ignore[arg-type]
    assert Target().greet() == "hello"
    assert Target.added == "new"  # type: ignore[attr-defined]
    assert optional.skipped == [f"{HERE}.Target.greet"]
    assert f"test-optional: moto defines {HERE}.Target.greet itself" in caplog.text
    optional.uninstall()
    _assert_untouched()
    assert optional.skipped == []


def test_import_error_in_patches_names_the_extension_and_the_module() -> None:
    class Moved(PatchExtension):
        name = "test-moved"

        def patches(self) -> Sequence[Patch]:
            from moto.no_such_service.models import Backend  # type: ignore[import-not-found]

            return (Patch.wrap(Backend, "get", lambda original: original),)

    with pytest.raises(ExtensionInstallError, match=r"^test-moved: moto target moto\.no_such_service not found; "):
        Moved().install(server=None)  # type: ignore[arg-type]


def test_missing_class_in_a_moto_module_names_the_extension_and_the_class() -> None:
    class Renamed(PatchExtension):
        name = "test-renamed"

        def patches(self) -> Sequence[Patch]:
            from moto.s3 import models

            return (Patch.wrap(models.NoSuchBucketClass, "get", lambda original: original),)  # type: ignore[attr-defined]

    with pytest.raises(
        ExtensionInstallError, match=r"^test-renamed: moto target moto\.s3\.models\.NoSuchBucketClass not found"
    ):
        Renamed().install(server=None)  # type: ignore[arg-type]


def test_failing_on_install_restores_the_patches() -> None:
    class Fragile(Shout):
        def on_install(self, server: Any) -> None:
            raise RuntimeError("boom")

    fragile = Fragile()
    with pytest.raises(RuntimeError, match="boom"):
        fragile.install(server=None)  # type: ignore[arg-type]
    _assert_untouched()
    assert not fragile.installed


def test_server_with_a_broken_extension_fails_to_start_and_leaves_nothing_behind(
    emulator_server: EmulatorServer,
) -> None:
    broken = Broken(lambda: Patch.wrap(Target, "vanished", lambda original: original))
    server = EmulatorServer(port=0, extensions=[broken])
    with pytest.raises(ExtensionInstallError, match=r"^test-broken: "):
        server.start()
    assert not server.running
    assert "test-broken" not in active_names()
    _assert_untouched()
    assert os.environ["MOTO_PORT"] == str(emulator_server.port)


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
