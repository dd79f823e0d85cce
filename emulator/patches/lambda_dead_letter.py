"""Lambda ``DeadLetterConfig``: remember it and return it.

moto gap: ``moto/awslambda/models.py`` ``LambdaFunction`` drops
``DeadLetterConfig`` from CreateFunction/UpdateFunctionConfiguration, and
``LambdaFunction.get_configuration`` never returns it, so Terraform's
``aws_lambda_function.dead_letter_config`` shows a diff on every plan.

The patch stores the value on the function (``__init__``,
``update_configuration``) and adds it to ``get_configuration``, which backs
CreateFunction, GetFunction, GetFunctionConfiguration and
UpdateFunctionConfiguration responses. An empty ``TargetArn`` (what the
provider sends to remove the setting) clears it, as in AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension

_ATTRIBUTE = "_emulator_dead_letter_config"


def _remember(function: Any, config: Any) -> None:
    target = config.get("TargetArn") if isinstance(config, dict) else None
    setattr(function, _ATTRIBUTE, {"TargetArn": target} if target else None)


def _init(original: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original(self, account_id, spec, *args, **kwargs)
        _remember(self, spec.get("DeadLetterConfig"))

    return __init__


def _update(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            _remember(self, config_updates["DeadLetterConfig"])
        return original(self, config_updates)

    return update_configuration


def _configuration(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original(self, *args, **kwargs)
        dead_letter = getattr(self, _ATTRIBUTE, None)
        if dead_letter:
            config["DeadLetterConfig"] = dict(dead_letter)
        return config

    return get_configuration


class LambdaDeadLetterConfig(PatchExtension):
    """Round-trip ``DeadLetterConfig`` through Lambda's configuration APIs."""

    name = "lambda-dead-letter-config"

    def patches(self) -> Sequence[Patch]:
        from moto.awslambda.models import LambdaFunction

        return (
            Patch.wrap(LambdaFunction, "__init__", _init),
            Patch.wrap(LambdaFunction, "update_configuration", _update),
            Patch.wrap(LambdaFunction, "get_configuration", _configuration),
        )
