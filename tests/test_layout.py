"""The layout's rules, read from the modules' imports (docs/architecture.md).

- A package imports only the packages its row of ``MAY_IMPORT`` names, and its
  ``__init__`` docstring says the same ("May import: ...").
- Another package's names come from its ``__init__``, never from its private modules.
- Collectors have no database; the store is the only writer of collected data; export
  never writes the database; curation never edits a collected post.

Each rule is a function over source text, so the tests at the bottom can show that a
deliberately wrong import or write is caught.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO

ROOT = REPO / "backchannel"

# Imported by everything: the shared exception tree and the lazy-export helper.
EVERYWHERE = {"errors", "lazy"}

# The one-way flow: collectors -> collect -> store -> curation -> export, with consent,
# media and sanitize beside them. Front ends (cli, sandbox) may use every service.
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "lazy": set(),
    "resources": set(),
    "config": set(),
    "config_file": {"config"},
    "sanitize": set(),
    "collectors": {"sanitize"},
    "importers": {"collectors", "sanitize"},
    "store": {"collectors", "consent", "resources"},
    "consent": {"store", "collectors", "curation", "export", "events"},
    "events": {"collectors", "store"},
    "event_edits": {"events", "store", "consent"},
    "media": {"store", "collectors", "events", "config"},
    "export": {"store", "consent", "sanitize", "events", "resources"},
    "curation": {"store", "consent", "export", "sanitize", "events"},
    "collect": {
        "collectors",
        "importers",
        "curation",  # an imported Storify story is stored as a storyboard
        "store",
        "consent",
        "media",
        "export",
        "events",
        "config",
    },  # fmt: skip
    "studio": {
        "importers",  # the formats `import` reads, for the upload form
        "store",
        "curation",
        "consent",
        "export",
        "media",
        "collect",
        "events",
        "event_edits",
        "resources",
    },  # fmt: skip
    "sandbox": {
        "collect",
        "collectors",
        "config",
        "consent",
        "curation",
        "events",
        "export",
        "media",
        "resources",
        "sanitize",
        "store",
    },
    "cli": {
        "collect",
        "collectors",
        "importers",
        "config",
        "config_file",
        "consent",
        "curation",
        "events",
        "event_edits",
        "export",
        "media",
        "resources",
        "sandbox",
        "sanitize",
        "store",
        "studio",
    },
    "__main__": {"cli"},
    "__init__": set(),
}

# Tables filled from the platforms: only the store writes them.
COLLECTED = {"Post", "Author", "Media", "Link", "PostTag", "PostSighting", "Tag"}
# The store's writers: no reader (export) or curator may call them.
STORE_WRITERS = {
    "save_page", "save_posts", "upsert", "apply_recheck", "remove_post", "erase_posts", "erase_orphans",
    "sync_profile_media", "start_run", "add_to_run", "finish_run", "reset_cursors",
}  # fmt: skip
SESSION_WRITES = {"add", "add_all", "delete", "merge", "flush", "commit", "bulk_save_objects"}
SQL_WRITES = {"insert", "update", "delete"}
# Calls that hand back a collected row, besides a query for a whole collected model.
ROW_FINDERS = {"find_post", "addresses.resolve", "get_post"}
# Calls whose bare model argument (``select(Post)``, ``session.get(Post, id)``) means
# whole rows; ``select(Post.id)`` is columns, plain values.
ROW_QUERIES = {"select", "get", "scalars", "scalar"}


def package_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return parts[0]


def modules() -> Iterator[Path]:
    yield from sorted(ROOT.rglob("*.py"))


def backchannel_imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every absolute import of backchannel."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "backchannel":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "backchannel":
                yield node.lineno, node.module


def import_problems(source: str, package: str, where: str) -> list[str]:
    """Imports that break the package table or reach into another package's modules."""
    problems = []
    allowed = MAY_IMPORT[package] | EVERYWHERE | {package}
    for line, module in backchannel_imports(ast.parse(source)):
        parts = module.split(".")
        if len(parts) == 1:
            continue  # ``from backchannel import __version__``
        target = parts[1]
        if target not in allowed:
            problems.append(f"{where}:{line}: {package} may not import {target} ({module})")
        elif target != package and len(parts) > 2:
            problems.append(
                f"{where}:{line}: {module} is private to {target}; import from backchannel.{target}"
            )
    return problems


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _dotted(call: ast.Call) -> str:
    return ast.unparse(call.func)


def _yields_rows(value: ast.expr) -> bool:
    """True when ``value`` looks up collected rows (not columns of them)."""
    for call in (c for c in ast.walk(value) if isinstance(c, ast.Call)):
        if _dotted(call) in ROW_FINDERS:
            return True
        if _call_name(call) in ROW_QUERIES and any(
            isinstance(arg, ast.Name) and arg.id in COLLECTED for arg in call.args
        ):
            return True
    return False


def collected_writes(source: str, where: str) -> list[str]:
    """SQL statements that insert, update or delete rows of a collected table."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = _call_name(node)
        if name and (name in SQL_WRITES or name.endswith("_insert")):
            target = node.args[0]
            if isinstance(target, ast.Name) and target.id in COLLECTED:
                problems.append(f"{where}:{node.lineno}: {name}({target.id}) outside the store")
    return problems


def _collected_names(function: ast.AST) -> set[str]:
    """Local names bound to a collected row: by annotation, finder call or a query on one."""
    bound: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.arg) and node.annotation is not None:
            if _names(node.annotation) & COLLECTED or (
                isinstance(node.annotation, ast.Constant)
                and str(node.annotation.value) in COLLECTED
            ):
                bound.add(node.arg)
        value, targets = None, []
        if isinstance(node, ast.Assign):
            value, targets = node.value, node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            value, targets = node.value, [node.target]
        elif isinstance(node, ast.For):
            value, targets = node.iter, [node.target]
        if value is None:
            continue
        if _yields_rows(value):
            for target in targets:
                bound |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return bound


def row_edits(source: str, where: str) -> list[str]:
    """Attribute assignments to, or session deletes of, rows of a collected table."""
    problems = []
    tree = ast.parse(source)
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        rows = _collected_names(function)
        for node in ast.walk(function):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id in rows
                ):
                    problems.append(
                        f"{where}:{node.lineno}: sets {target.value.id}.{target.attr} "
                        "on a collected row"
                    )
            if (
                isinstance(node, ast.Call)
                and _call_name(node) == "delete"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in rows
            ):
                problems.append(f"{where}:{node.lineno}: deletes collected row {node.args[0].id}")
    return problems


def store_writer_imports(source: str, where: str) -> list[str]:
    """Imports of the store's writers."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("backchannel")
        ):
            found = {a.name for a in node.names} & STORE_WRITERS
            if found:
                problems.append(f"{where}:{node.lineno}: imports {', '.join(sorted(found))}")
    return problems


def database_writes(source: str, where: str) -> list[str]:
    """Anything that writes the database: a write session, session writes, SQL writes,
    the store's writers."""
    problems = store_writer_imports(source, where)
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("sqlalchemy")
        ):
            found = {
                a.name for a in node.names if a.name in SQL_WRITES or a.name.endswith("insert")
            }
            if found:
                problems.append(f"{where}:{node.lineno}: imports {', '.join(sorted(found))}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver, name = node.func.value, node.func.attr
            if name == "writing":
                problems.append(f"{where}:{node.lineno}: opens a writing session")
            elif (
                name in SESSION_WRITES
                and isinstance(receiver, ast.Name)
                and "session" in receiver.id
            ):
                problems.append(f"{where}:{node.lineno}: {receiver.id}.{name}()")
    return problems


def curation_problems(source: str, where: str) -> list[str]:
    """Curation writes its own rows only: no store writer, no edit of a collected row."""
    return store_writer_imports(source, where) + row_edits(source, where)


def _all_modules() -> list[tuple[Path, str, str]]:
    return [(path, package_of(path), path.read_text(encoding="utf-8")) for path in modules()]


# -- the rules, over the whole tree ------------------------------------------------------


def test_every_package_is_in_the_table() -> None:
    missing = {package_of(path) for path in modules()} - set(MAY_IMPORT)
    assert not missing, f"add these to MAY_IMPORT and docs/architecture.md: {sorted(missing)}"


def test_packages_import_only_what_the_flow_allows() -> None:
    problems = []
    for path, package, source in _all_modules():
        problems += import_problems(source, package, str(path.relative_to(REPO)))
    assert not problems, "\n".join(problems)


def test_only_the_store_writes_collected_tables() -> None:
    problems = []
    for path, package, source in _all_modules():
        if package not in ("store", "sandbox"):
            problems += collected_writes(source, str(path.relative_to(REPO)))
    assert not problems, "\n".join(problems)


def test_export_never_writes_the_database() -> None:
    problems = []
    for path in sorted((ROOT / "export").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        where = str(path.relative_to(REPO))
        problems += database_writes(source, where) + row_edits(source, where)
    assert not problems, "\n".join(problems)


def test_curation_never_edits_a_collected_post() -> None:
    problems = []
    for path in sorted((ROOT / "curation").rglob("*.py")):
        problems += curation_problems(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    assert not problems, "\n".join(problems)


def _may_import_in_docstring(package: str) -> set[str] | None:
    doc = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text())) or ""
    flat = " ".join(doc.split())
    if re.search(r"May import nothing else of backchannel", flat):
        return set()
    match = re.search(r"May import: (.+?)\.(?:\s|$)", flat)
    if match is None:
        return None
    listed = re.sub(r"\([^)]*\)", "", match.group(1))
    return {word.strip().split()[0] for word in listed.split(",") if word.strip()} - EVERYWHERE


SERVICE_PACKAGES = ["collectors", "collect", "store", "consent", "media", "sanitize",
                    "curation", "export"]  # fmt: skip


@pytest.mark.parametrize("package", SERVICE_PACKAGES)
def test_package_docstring_says_what_it_may_import(package: str) -> None:
    assert _may_import_in_docstring(package) == MAY_IMPORT[package]


@pytest.mark.parametrize("package", [*SERVICE_PACKAGES, "sandbox"])
def test_package_exports_resolve_and_never_shadow_a_module(package: str) -> None:
    module = importlib.import_module(f"backchannel.{package}")
    files = {p.stem for p in (ROOT / package).glob("*.py")}
    for name in module.__all__:
        value = getattr(module, name)
        if name in files:
            # A namespace export (``exclusions.counts``) is the module itself.
            assert value.__name__ == f"backchannel.{package}.{name}"
        elif isinstance(value, type) or callable(value) and hasattr(value, "__code__"):
            # A class or function: defined in the package, not re-exported from elsewhere.
            assert value.__module__.startswith(f"backchannel.{package}."), (name, value)


# -- the checks catch what they are for ----------------------------------------------------


def test_a_collector_importing_the_store_is_caught() -> None:
    source = "from backchannel.store import Post\n"
    assert import_problems(source, "collectors", "x.py") == [
        "x.py:1: collectors may not import store (backchannel.store)"
    ]


def test_a_private_module_import_is_caught() -> None:
    source = "from backchannel.store.models import Post\n"
    (problem,) = import_problems(source, "export", "x.py")
    assert "private to store" in problem


def test_an_export_write_is_caught() -> None:
    source = (
        "from sqlalchemy import update\n"
        "def f(database, post: Post):\n"
        "    with database.writing() as session:\n"
        "        session.add(post)\n"
        "        post.text = ''\n"
    )
    problems = database_writes(source, "x.py") + row_edits(source, "x.py")
    assert len(problems) == 4, problems


def test_a_curation_edit_of_a_post_is_caught() -> None:
    source = (
        "from backchannel.store import remove_post\n"
        "def hide(session, address):\n"
        "    post = find_post(session, address)\n"
        "    post.text = 'edited'\n"
        "    session.delete(post)\n"
        "def note(item):\n"
        "    item.note = 'fine: a story item is curation'\n"
    )
    problems = curation_problems(source, "x.py")
    assert len(problems) == 3, problems
    assert collected_writes("delete(Post).where(Post.id == 1)\n", "x.py")


def test_architecture_doc_lists_the_same_rules() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = {}
    for line in doc.splitlines():
        match = re.match(r"^\| `([a-z_]+)/` \|.*\| ([^|]*) \|$", line)
        if match:
            rows[match.group(1)] = set(re.findall(r"`([a-z_]+)`", match.group(2)))
    for package in SERVICE_PACKAGES:
        assert rows.get(package) == MAY_IMPORT[package], package
