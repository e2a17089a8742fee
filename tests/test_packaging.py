"""The wheel carries the theme and the migrations, found through importlib.resources."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from backchannel.resources import migrations_dir, templates_dir
from tests.helpers import REPO


def test_resources_are_found_in_a_checkout() -> None:
    assert (migrations_dir() / "env.py").is_file()
    assert templates_dir().is_dir()


@pytest.mark.slow
def test_wheel_force_includes_templates_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("backchannel-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "backchannel/_data/migrations/env.py" in names
    assert any(n.startswith("backchannel/_data/migrations/versions/0001") for n in names)
    assert any(n.startswith("backchannel/_data/templates/") for n in names)
    # An installed copy, outside the checkout, finds them through importlib.resources.
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from backchannel.resources import migrations_dir, templates_dir;"
        "print(migrations_dir()); print(templates_dir())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(target)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.split()
    assert out == [
        str(target / "backchannel/_data/migrations"),
        str(target / "backchannel/_data/templates"),
    ]
