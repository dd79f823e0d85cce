"""Stacks deploy after the stacks they depend on, as cdktf's manifest records them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Synthesized
from tooling.stack_order import deploy_order, deploy_order_of, deploy_waves, deploy_waves_of, upstream_of


def manifest(**dependencies: list[str]) -> dict[str, Any]:
    return {"stacks": {name: {"dependencies": needs} for name, needs in dependencies.items()}}


def test_a_stack_comes_after_every_stack_it_depends_on() -> None:
    order = deploy_order(
        manifest(
            inference=["artifact-store", "training"],
            training=["data-pipeline", "artifact-store"],
            **{"data-pipeline": [], "artifact-store": []},
        )
    )
    assert order == ["artifact-store", "data-pipeline", "training", "inference"]


def test_stacks_that_do_not_depend_on_each_other_share_a_wave() -> None:
    waves = deploy_waves(
        manifest(
            inference=["artifact-store", "training"],
            training=["data-pipeline", "artifact-store"],
            **{"data-pipeline": [], "artifact-store": []},
        )
    )
    assert waves == [["artifact-store", "data-pipeline"], ["training"], ["inference"]]


def test_the_shipped_stacks_deploy_after_the_stacks_they_read(synthesized: Callable[[str], Synthesized]) -> None:
    # training reads the artifact store and the data pipeline; inference reads the artifact store only, so it
    # deploys beside training; the dependency repository's policy names the training pipeline's role.
    assert deploy_waves_of(synthesized("local").outdir) == [
        ["local-artifact-store", "local-data-pipeline"],
        ["local-inference", "local-training"],
        ["local-dependencies"],
    ]


def test_independent_stacks_keep_a_stable_name_order() -> None:
    assert deploy_order(manifest(b=[], a=[], c=[])) == ["a", "b", "c"]


def test_a_cycle_is_named() -> None:
    with pytest.raises(ValueError, match=r"cycle: (a -> b -> a|b -> a -> b)"):
        deploy_order(manifest(a=["b"], b=["a"]))


def test_an_unknown_dependency_is_named() -> None:
    with pytest.raises(ValueError, match="stack a depends on ghost"):
        deploy_order(manifest(a=["ghost"]))


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_synthesized_stack_is_in_the_order(synthesized: Callable[[str], Synthesized], env: str) -> None:
    synth = synthesized(env)
    assert sorted(deploy_order_of(synth.outdir)) == sorted(synth.stacks)


def test_upstream_of_a_stack_is_every_stack_it_depends_on_directly_or_not() -> None:
    graph = manifest(
        dependencies=["training"],
        training=["data-pipeline", "artifact-store"],
        inference=["artifact-store"],
        **{"data-pipeline": [], "artifact-store": []},
    )
    assert upstream_of(graph, "dependencies") == {"training", "data-pipeline", "artifact-store"}
    assert upstream_of(graph, "inference") == {"artifact-store"}
    assert upstream_of(graph, "artifact-store") == set()
