"""Where the packaged theme and migrations live.

In a wheel they are force-included as ``backchannel/_data/{templates,migrations}``;
in a source checkout (or an editable install) they are the top-level folders.
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
