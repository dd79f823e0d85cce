"""Local Lambda runtime: run deployed Python zips in subprocesses, without Docker.

* ``runner``: ``LocalLambdaRunner`` extracts a zip (cached by sha256) and runs one
  invocation in a fresh ``sys.executable`` process (timeout, logs, errors);
* ``bootstrap``: the script that process runs (imports the handler, calls it);
* ``async_invoker``: bounded worker pool with AWS's async retry semantics.

The moto glue (which moto functions are replaced) is
``emulator.patches.lambda_runtime``.
"""

from emulator.lambda_runtime.async_invoker import AsyncInvoker, AsyncJob, AsyncSettings
from emulator.lambda_runtime.runner import FunctionSpec, InvocationResult, LocalLambdaRunner

__all__ = ["AsyncInvoker", "AsyncJob", "AsyncSettings", "FunctionSpec", "InvocationResult", "LocalLambdaRunner"]
