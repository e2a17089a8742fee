"""The wheel carries the theme and the migrations, found through importlib.resources."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the working tree, as ``pip install backchannel`` would get it."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("backchannel-*.whl")
    return built


@pytest.mark.slow
def test_wheel_force_includes_templates_and_migrations(wheel: Path, tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "backchannel/_data/migrations/env.py" in names
    assert "backchannel/_data/config.example.toml" in names  # `backchannel config example`
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


@pytest.mark.slow
def test_installed_wheel_runs_the_demo(wheel: Path, tmp_path: Path) -> None:
    """Installed from the wheel, outside the checkout, ``backchannel demo`` runs whole."""
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
         str(target), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("BACKCHANNEL_CONFIG", None)
    where = subprocess.run(
        [sys.executable, "-c", "import backchannel; print(backchannel.__file__)"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(target), where
    demo = subprocess.run(
        [sys.executable, "-m", "backchannel", "demo", "--out", "site", "--data", "data"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    assert "== exported" in demo.stdout
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="swrs26/index.html"' in index
    assert (tmp_path / "site" / "swrs26" / "timeline.html").is_file()
    assert (tmp_path / "site" / "assets" / "style.css").is_file()
    assert (tmp_path / "data" / "config.toml").is_file()
    example = subprocess.run(
        [sys.executable, "-m", "backchannel", "config", "example"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert example == (REPO / "config.example.toml").read_text(encoding="utf-8")
