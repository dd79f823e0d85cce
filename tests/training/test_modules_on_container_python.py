"""Every training module compiles and imports in the SageMaker scikit-learn image's runtime (tools/sagemaker-sklearn/:
Python 3.9, scikit-learn 1.2.1), where the pipeline runs them; the end-to-end test runs the scripts there too."""

from __future__ import annotations

import json
import subprocess

from tests.training.conftest import TRAINING_DIR, container_python

# Compiles each module (a syntax error of 3.10+ fails here) and imports it (a 3.10+ name such as datetime.UTC, or
# `type | type` evaluated at import, fails here); reports what each raised.
_PROBE = """
import importlib, json, sys
import sklearn
sys.path.insert(0, sys.argv[1])
report = {"python": "%d.%d" % sys.version_info[:2], "sklearn": sklearn.__version__, "modules": {}}
for name in sys.argv[2:]:
    try:
        path = f"{sys.argv[1]}/{name}.py"
        with open(path, encoding="utf-8") as source:
            compile(source.read(), path, "exec")
        importlib.import_module(name)
        report["modules"][name] = "ok"
    except Exception as exc:
        report["modules"][name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(report))
"""


def test_every_training_module_imports_on_the_containers_python_3_9_and_scikit_learn_1_2_1() -> None:
    modules = sorted(path.stem for path in TRAINING_DIR.glob("*.py"))
    assert {"prepare", "train", "evaluate", "publish", "model_format"} <= set(modules)
    result = subprocess.run(
        [str(container_python()), "-I", "-B", "-c", _PROBE, str(TRAINING_DIR), *modules],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["python"], report["sklearn"]) == ("3.9", "1.2.1")
    assert report["modules"] == dict.fromkeys(modules, "ok")
