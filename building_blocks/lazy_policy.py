"""A resource policy whose statements can still be added after the resource exists.

Bucket and key policies gain statements from later constructs (a log bucket learns which
buckets deliver to it; a key learns which service uses it). The policy JSON is produced
at synth time from the statements collected by then.
"""

from __future__ import annotations

from typing import Any

import jsii
from cdktf import IResolveContext, IStringProducer, Lazy

from building_blocks.iam import Statement, policy_document


@jsii.implements(IStringProducer)
class _PolicyProducer:
    def __init__(self, statements: list[Statement]) -> None:
        self._statements = statements

    def produce(self, context: IResolveContext) -> Any:
        return policy_document(self._statements)


class LazyPolicy:
    """Collects statements; `.json` is a token that renders them all at synth."""

    def __init__(self, statements: list[Statement] | None = None) -> None:
        self.statements: list[Statement] = list(statements or [])
        self.json: str = Lazy.string_value(_PolicyProducer(self.statements))

    def add(self, statement: Statement) -> None:
        """Add one statement (sids must stay unique: checked when rendered)."""
        self.statements.append(statement)
