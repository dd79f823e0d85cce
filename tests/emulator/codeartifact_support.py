"""What the CodeArtifact tests use the data plane with: tiny wheels, twine and pip as subprocesses, raw HTTP.

twine and pip run as a user runs them (``python -m twine upload``, ``python -m pip install``) with the
environment's ``PIP_*``/``TWINE_*`` settings dropped, so nothing but the emulator's index can satisfy them
(this machine's ``PIP_FIND_LINKS`` would otherwise offer local wheels).
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

SUBPROCESS_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Wheel:
    """A built wheel: the project name as its metadata spells it, the version, the module it installs."""

    name: str
    version: str
    module: str
    path: Path

    @property
    def content(self) -> bytes:
        return self.path.read_bytes()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "TWINE_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", NO_PROXY="127.0.0.1,localhost")
    return env


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *arguments],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=False,
    )


def build_wheels(root: Path, projects: list[tuple[str, str, str]]) -> list[Wheel]:
    """Build one pure-Python wheel per ``(name, version, module)`` (one ``pip wheel`` run, no network)."""
    sources = []
    for name, version, module in projects:
        source = root / module
        source.mkdir(parents=True)
        (source / f"{module}.py").write_text(f"NAME = {name!r}\n")
        (source / "pyproject.toml").write_text(
            "[build-system]\n"
            'requires = ["setuptools"]\n'
            'build-backend = "setuptools.build_meta"\n\n'
            "[project]\n"
            f'name = "{name}"\n'
            f'version = "{version}"\n'
            f'description = "{module}, a CodeArtifact test package"\n'
            'requires-python = ">=3.9"\n\n'
            "[tool.setuptools]\n"
            f'py-modules = ["{module}"]\n'
        )
        sources.append(str(source))
    dist = root / "dist"
    built = _run("pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist), *sources)
    assert built.returncode == 0, built.stdout + built.stderr
    return [
        Wheel(name, version, module, next(dist.glob(f"{module}-{version}-*.whl"))) for name, version, module in projects
    ]


def twine_upload(endpoint: str, token: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """``twine upload --repository-url <endpoint> -u aws -p <token>``, as the README documents it."""
    credentials = ["-u", "aws", "-p", token]
    return _run("twine", "upload", "--repository-url", endpoint, *credentials, "--non-interactive", *map(str, files))


def pip_install(index_url: str, target: Path, *requirements: str) -> subprocess.CompletedProcess[str]:
    """``pip install --no-deps --index-url <index_url> --target <target>`` without cache or prompts."""
    return _run(
        "pip",
        "install",
        "--no-deps",
        "--no-cache-dir",
        "--no-input",
        "--index-url",
        index_url,
        "--target",
        str(target),
        *requirements,
    )


def with_credentials(url: str, token: str) -> str:
    """``http://host/...`` -> ``http://aws:<token>@host/...`` (pip's way of passing the token)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://aws:{token}@{rest}"


def basic(token: str, user: str = "aws") -> dict[str, str]:
    """The ``Authorization`` header twine and pip send."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def request(url: str, headers: dict[str, str], data: bytes | None = None, method: str | None = None) -> Answer:
    """One HTTP request; an error status is an answer, not an exception."""
    prepared = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


def upload(endpoint: str, headers: dict[str, str], wheel: Wheel, sha256: str | None = None) -> Answer:
    """POST the wheel as twine does (``:action=file_upload``, multipart), optionally with a wrong ``sha256``."""
    boundary = uuid.uuid4().hex
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": wheel.name,
        "version": wheel.version,
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "metadata_version": "2.4",
        "requires_python": ">=3.9",
        "sha256_digest": sha256 or wheel.sha256,
    }
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{wheel.path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + wheel.content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content_type = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return request(endpoint, {**headers, **content_type}, data=b"".join(parts), method="POST")
