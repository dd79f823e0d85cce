"""Developer tooling behind the make targets: toolchain checks, deploy, demo, benchmarks."""
