"""Lambda zips are deterministic: same source, same bytes; caches never get in."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from building_blocks.lambda_package import build_zip, write_package


def make_package(root: Path, name: str = "worker") -> Path:
    package = root / name
    (package / "__pycache__").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text("def handler(event, context):\n    return event\n")
    (package / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\x00cache")
    return package


def test_same_source_gives_identical_bytes_whatever_the_file_times(tmp_path: Path) -> None:
    package = make_package(tmp_path)
    first = build_zip(["worker"], lambdas_dir=tmp_path)
    os.utime(package / "handler.py", (1_000_000_000, 1_000_000_000))
    (package / "handler.py").chmod(0o755)
    assert build_zip(["worker"], lambdas_dir=tmp_path) == first


def test_a_source_change_changes_the_hash(tmp_path: Path) -> None:
    package = make_package(tmp_path)
    before = write_package("worker", build_zip(["worker"], lambdas_dir=tmp_path), build_dir=tmp_path / "build")
    (package / "handler.py").write_text("def handler(event, context):\n    return None\n")
    after = write_package("worker", build_zip(["worker"], lambdas_dir=tmp_path), build_dir=tmp_path / "build")
    assert before.sha256_base64 != after.sha256_base64 and before.path != after.path


def test_zip_holds_packages_at_the_root_plus_generated_files_and_no_caches(tmp_path: Path) -> None:
    make_package(tmp_path, "worker")
    make_package(tmp_path, "shared_lib")
    data = build_zip(["worker", "shared_lib"], {"worker/config.json": '{"a": 1}'}, lambdas_dir=tmp_path)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == sorted(
            [
                "shared_lib/__init__.py",
                "shared_lib/handler.py",
                "worker/__init__.py",
                "worker/config.json",
                "worker/handler.py",
            ]
        )
        assert archive.read("worker/config.json") == b'{"a": 1}'
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_generated_file_may_not_replace_source(tmp_path: Path) -> None:
    make_package(tmp_path)
    with pytest.raises(ValueError, match="would replace a source file"):
        build_zip(["worker"], {"worker/handler.py": "x"}, lambdas_dir=tmp_path)


def test_folder_without_init_is_refused(tmp_path: Path) -> None:
    (tmp_path / "loose").mkdir()
    with pytest.raises(ValueError, match=r"'loose'.*is not a Python package"):
        build_zip(["loose"], lambdas_dir=tmp_path)
