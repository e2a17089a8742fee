"""Where the packaged theme, migrations and example config live.

In a wheel they are force-included as ``backchannel/_data/{templates,migrations,
config.example.toml}``; in a source checkout (or an editable install) they are at the
top level.
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path


def _data_dir(name: str) -> Path:
    packaged = files("backchannel") / "_data" / name
    if packaged.is_dir():
        with as_file(packaged) as path:  # a real folder for wheels installed unzipped
            return Path(path)
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"backchannel's {name} folder is missing from this installation")


def templates_dir() -> Path:
    return _data_dir("templates")


def migrations_dir() -> Path:
    return _data_dir("migrations")


def example_config() -> Path:
    """``config.example.toml``: every key, its default and what it does."""
    packaged = files("backchannel") / "_data" / "config.example.toml"
    if packaged.is_file():
        with as_file(packaged) as path:
            return Path(path)
    checkout = Path(__file__).resolve().parent.parent / "config.example.toml"
    if checkout.is_file():
        return checkout
    raise FileNotFoundError("backchannel's config.example.toml is missing from this installation")
