"""The order to deploy synthesized stacks in: every stack after the stacks it depends on.

cdktf records cross-stack dependencies in `cdktf.out/manifest.json` (`stacks.<name>.dependencies`);
`cdktf deploy` follows them itself, and whatever drives Terraform directly (the integration tests,
a CI job planning stack by stack) reads them from here. Destroy in the reverse order.
"""

from __future__ import annotations

import json
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any


def deploy_order(manifest: dict[str, Any]) -> list[str]:
    """Stack names, dependencies first (independent stacks in name order, so the order is stable).

    Raises ValueError naming the stack for a dependency on an unknown stack, or naming the cycle."""
    return [stack for wave in deploy_waves(manifest) for stack in wave]


def deploy_waves(manifest: dict[str, Any]) -> list[list[str]]:
    """Stacks in waves: each wave depends only on earlier waves, so its stacks may deploy at once
    (as `cdktf deploy` does). Same errors as `deploy_order`."""
    stacks = manifest["stacks"]
    graph: dict[str, set[str]] = {}
    for name in sorted(stacks):
        dependencies = set(stacks[name].get("dependencies", []))
        unknown = sorted(dependencies - set(stacks))
        if unknown:
            raise ValueError(f"stack {name} depends on {', '.join(unknown)}, which the manifest does not hold")
        graph[name] = dependencies
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as exc:
        raise ValueError(f"stacks depend on each other in a cycle: {' -> '.join(exc.args[1])}") from exc
    waves: list[list[str]] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        waves.append(ready)
        sorter.done(*ready)
    return waves


def upstream_of(manifest: dict[str, Any], stack: str) -> set[str]:
    """Every stack `stack` depends on, directly or not (cdktf's manifest.json)."""
    seen: set[str] = set()
    pending = list(manifest["stacks"][stack].get("dependencies", []))
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending += manifest["stacks"][name].get("dependencies", [])
    return seen


def deploy_order_of(outdir: Path) -> list[str]:
    """`deploy_order` of the manifest that `cdktf synth` wrote into `outdir` (e.g. cdktf.out)."""
    return deploy_order(_manifest(outdir))


def deploy_waves_of(outdir: Path) -> list[list[str]]:
    """`deploy_waves` of the manifest that `cdktf synth` wrote into `outdir`."""
    return deploy_waves(_manifest(outdir))


def _manifest(outdir: Path) -> dict[str, Any]:
    return dict(json.loads((outdir / "manifest.json").read_text(encoding="utf-8")))
