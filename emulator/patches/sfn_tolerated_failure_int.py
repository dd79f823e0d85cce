"""Step Functions: accept an integer ``ToleratedFailurePercentage`` (``10``, not only ``10.0``).

moto gap: the vendored ASL grammar (``moto/stepfunctions/parser/asl/antlr/runtime/ASLParser.py``,
rule ``tolerated_failure_percentage_decl``) only accepts a ``NUMBER`` token there, and the
lexer turns ``10`` into an ``INT`` token, so ``CreateStateMachine`` fails with
``ASLParserException ... no viable alternative at input '"ToleratedFailurePercentage":10'``.
AWS (and the CDK/Terraform definitions that write ``10``) accept any number from 0 to 100.

The patch wraps ``moto/stepfunctions/parser/asl/parse/asl_parser.py``
``AmazonStateLanguageParser.parse`` (used by CreateStateMachine/UpdateStateMachine
validation and by every execution): when a definition has an integer
``ToleratedFailurePercentage`` anywhere, the parser gets a copy with that value as a float.
The stored definition (DescribeStateMachine) is the caller's text, unchanged; every other
definition is passed through untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from emulator.extension import Patch, PatchExtension, unwrap_static

FIELD = "ToleratedFailurePercentage"


def _floats(node: Any) -> bool:
    """Turn integer ``ToleratedFailurePercentage`` values into floats in place; True if any changed."""
    changed = False
    if isinstance(node, dict):
        value = node.get(FIELD)
        if isinstance(value, int) and not isinstance(value, bool):
            node[FIELD] = float(value)
            changed = True
        for child in node.values():
            changed = _floats(child) or changed
    elif isinstance(node, list):
        for child in node:
            changed = _floats(child) or changed
    return changed


def parser_text(definition: str) -> str:
    """The definition the ASL parser should see (the same text unless a rewrite is needed)."""
    if f'"{FIELD}"' not in definition:
        return definition
    try:
        document = json.loads(definition)
    except ValueError:
        return definition  # let the parser report the syntax error
    return json.dumps(document, ensure_ascii=False) if _floats(document) else definition


def _parse(original: Any) -> staticmethod:  # type: ignore[type-arg]
    parse: Callable[..., Any] = unwrap_static(original)

    def parse_with_integer_percentages(definition: str, *args: Any, **kwargs: Any) -> Any:
        return parse(parser_text(definition) if isinstance(definition, str) else definition, *args, **kwargs)

    return staticmethod(parse_with_integer_percentages)


class StepFunctionsIntegerToleratedFailure(PatchExtension):
    """Let ``ToleratedFailurePercentage`` be an integer, as AWS does."""

    name = "sfn-integer-tolerated-failure-percentage"
    # Only the interpreter backend parses definitions (StepFunctionsParserBackend._validate_definition,
    # executions); the plain one never does, so the patch matters once sfn-execution switches it on.
    requires = ("sfn-execution",)

    def patches(self) -> Sequence[Patch]:
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

        return (Patch.wrap(AmazonStateLanguageParser, "parse", _parse),)
