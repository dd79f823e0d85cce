"""Extensions declare what must be installed before them; servers refuse any other order."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import EmulatorServer, ExtensionOrderError
from emulator.extension import active_names, check_order
from emulator.patches import BUILTIN_EXTENSIONS, builtin_extensions


class Recorder:
    """A minimal Extension that records whether it was installed."""

    def __init__(self, name: str, requires: tuple[str, ...] = ()) -> None:
        self.name = name
        self.requires = requires
        self.installed = False

    def install(self, server: Any) -> None:
        self.installed = True

    def uninstall(self) -> None:
        self.installed = False


def test_a_requirement_after_the_extension_is_refused_naming_both() -> None:
    with pytest.raises(ExtensionOrderError) as failure:
        check_order([Recorder("test-map", requires=("test-interpreter",)), Recorder("test-interpreter")])
    assert str(failure.value) == (
        "test-map requires test-interpreter, which must be installed before it but comes after it"
    )


def test_a_missing_requirement_is_refused_naming_both() -> None:
    with pytest.raises(ExtensionOrderError, match=r"^test-map requires test-interpreter, which is not among"):
        check_order([Recorder("test-map", requires=("test-interpreter",))])


def test_requirements_in_order_pass_and_extensions_without_requires_are_fine() -> None:
    check_order([Recorder("test-interpreter"), Recorder("test-map", requires=("test-interpreter",))])


def test_server_with_a_violated_order_starts_nothing() -> None:
    needs, needed = Recorder("test-map", requires=("test-interpreter",)), Recorder("test-interpreter")
    server = EmulatorServer(port=0, extensions=[needs, needed])
    with pytest.raises(ExtensionOrderError, match="test-map requires test-interpreter"):
        server.start()
    assert not server.running
    assert not needs.installed and not needed.installed
    assert "test-interpreter" not in active_names()


def test_an_extension_may_require_a_built_in(emulator_server: EmulatorServer) -> None:
    after_interpreter = Recorder("test-after-sfn", requires=("sfn-execution",))
    with EmulatorServer(port=0, extensions=[after_interpreter]):
        assert after_interpreter.installed
    assert not after_interpreter.installed


def test_built_ins_declare_their_dependencies_and_list_them_first() -> None:
    declared = {extension.name: extension.requires for extension in BUILTIN_EXTENSIONS if extension.requires}
    assert declared == {
        "codeartifact-backend": ("service-backend-dispatch",),
        "local-lambda-runtime": ("lambda-dead-letter-config",),
        "sagemaker-pipeline-steps": ("sagemaker-pipeline-execution",),
        "sfn-integer-tolerated-failure-percentage": ("sfn-execution",),
        "sfn-map-tolerated-failures": ("sfn-execution",),
        "sfn-s3-item-reader": ("sfn-execution",),
        "sfn-unnamed-execution": ("sfn-execution",),
    }
    check_order(builtin_extensions())
    with pytest.raises(ExtensionOrderError):
        check_order(builtin_extensions()[::-1])
