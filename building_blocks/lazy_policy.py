"""A resource policy whose statements can still be added after the resource exists.

Bucket and key policies gain statements from later constructs (a log bucket learns which
buckets deliver to it; a key learns which service uses it). The policy JSON is produced
at synth time from the statements collected by then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsii
from cdktf import IResolveContext, IStringProducer, Lazy

from building_blocks.iam import Statement, policy_document


@jsii.implements(IStringProducer)
class _PolicyProducer:
    def __init__(self, statements: list[Statement], finals: list[Callable[[], Statement]]) -> None:
        self._statements = statements
        self._finals = finals

    def produce(self, context: IResolveContext) -> Any:
        return policy_document([*self._statements, *(final() for final in self._finals)])


class LazyPolicy:
    """Collects statements; `.json` is a token that renders them all at synth."""

    def __init__(self, statements: list[Statement] | None = None) -> None:
        self.statements: list[Statement] = list(statements or [])
        self._finals: list[Callable[[], Statement]] = []
        self.json: str = Lazy.string_value(_PolicyProducer(self.statements, self._finals))

    def add(self, statement: Statement) -> None:
        """Add one statement (sids must stay unique: checked when rendered)."""
        self.statements.append(statement)

    def add_final(self, build: Callable[[], Statement]) -> None:
        """Add a statement built at synth from what later constructs added by then (e.g. a Deny that
        excepts every role granted some access); it comes after the `add`ed statements."""
        self._finals.append(build)
