"""Build the CDKTF app of one environment: every stack, in dependency order."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import App

from building_blocks.policy_guard import PolicyGuard
from platform_config import EnvironmentConfig
from platform_config.datasets import load_datasets
from stacks.artifact_store import ArtifactStoreStack
from stacks.data_pipeline import DataPipelineStack
from stacks.dependencies import DependenciesStack
from stacks.inference import InferenceStack
from stacks.training import TrainingStack


@dataclass
class PlatformApp:
    """The app plus handles on its stacks, so tests and later stacks can reach them."""

    app: App
    guard: PolicyGuard
    artifact_store: ArtifactStoreStack
    data_pipeline: DataPipelineStack
    training: TrainingStack
    inference: InferenceStack
    dependencies: DependenciesStack


def build_app(config: EnvironmentConfig, outdir: str | None = None) -> PlatformApp:
    """Compose every stack of `config`'s environment into one App (not yet synthesized)."""
    app = App(outdir=outdir) if outdir else App()
    guard = PolicyGuard()
    artifact_store = ArtifactStoreStack(app, config=config, guard=guard)
    datasets = load_datasets()
    data_pipeline = DataPipelineStack(app, config=config, guard=guard, datasets=datasets)
    training = TrainingStack(
        app,
        config=config,
        guard=guard,
        artifact_store=artifact_store,
        data_pipeline=data_pipeline,
        datasets=datasets,
    )
    inference = InferenceStack(app, config=config, guard=guard, artifact_store=artifact_store, datasets=datasets)
    # The training jobs may install packages from the team repository (a script's requirements).
    dependencies = DependenciesStack(app, config=config, guard=guard, consumers={"training": training.pipeline.role})
    return PlatformApp(
        app=app,
        guard=guard,
        artifact_store=artifact_store,
        data_pipeline=data_pipeline,
        training=training,
        inference=inference,
        dependencies=dependencies,
    )
