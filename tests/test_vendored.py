"""The studio's vendored front-end files are the npm packages' own, with their licences."""

from __future__ import annotations

import json

import pytest

from tests.axe import require_node_modules
from tests.helpers import REPO

VENDOR = REPO / "templates" / "studio" / "static" / "vendor"
COPIES = {
    "Sortable.min.js": ("sortablejs", "Sortable.min.js"),
    "Sortable.LICENSE": ("sortablejs", "LICENSE"),
}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_a_vendored_file_is_the_locked_npm_packages_file(name: str) -> None:
    require_node_modules()
    package, path = COPIES[name]
    locked = json.loads((REPO / "package-lock.json").read_text())["packages"]
    installed = json.loads((REPO / "node_modules" / package / "package.json").read_text())
    assert installed["version"] == locked[f"node_modules/{package}"]["version"]
    assert (VENDOR / name).read_bytes() == (REPO / "node_modules" / package / path).read_bytes()
