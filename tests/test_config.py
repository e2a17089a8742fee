"""Configuration: defaults, validation errors that name file and key, secrets by name."""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict
from pathlib import Path

import pytest

from backchannel.config import Config, load_config, parse_config
from backchannel.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_default_file_gives_defaults_beside_cwd(workdir: Path) -> None:
    config = load_config()
    assert config.database_url == f"sqlite:///{workdir / 'backchannel.db'}"
    assert config.media_dir == workdir / "media"


def test_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_env_variable_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[export]\ntitle = "From env"\n')
    monkeypatch.setenv("BACKCHANNEL_CONFIG", str(path))
    assert load_config().export.title == "From env"


def test_relative_sqlite_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    sub = tmp_path / "site"
    sub.mkdir()
    path = write(sub, '[database]\nurl = "sqlite:///data/archive.db"\n')
    assert load_config(path).database_url == f"sqlite:///{sub / 'data' / 'archive.db'}"


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[nonsense]\n", "nonsense", "unknown section"),
        ("[export]\ntitel = 'x'\n", "export.titel", "unknown key"),
        ("[collect]\ntimeout = 'soon'\n", "collect.timeout", "expected a number"),
        ("[export]\nallow_indexing = 1\n", "export.allow_indexing", "expected true or false"),
        ("[export]\nposts_per_page = true\n", "export.posts_per_page", "expected a whole number"),
        ("[collect]\nuser_agent = 'bot'\n", "collect.user_agent", "contact URL"),
        ("[mastodon.x]\nbase_url = 'mastodon.social'\n", "mastodon.x.base_url", "http(s) URL"),
        ("[mastodon.x]\naccess_token_env = 'X'\n", "mastodon.x.base_url", "server's URL"),
        (
            "[mastodon.x]\nbase_url = 'https://a.example'\naccess_token_env = 'abc def'\n",
            "mastodon.x.access_token_env",
            "NAME of an environment variable",
        ),
        ("[consent]\ndefault_policy = 'maybe'\n", "consent.default_policy", "opt-out"),
        ("[export]\nposts_per_page = 0\n", "export.posts_per_page", "above 0"),
        ("[export\n", "", "not valid TOML"),
        (
            "[database]\nurl = 'postgres://me:secret@db.example/archive'\n",
            "database.url",
            "the URL scheme postgres:// is not one SQLAlchemy knows: write postgresql+psycopg://",
        ),
        ("[database]\nurl = 'mysql://db.example/a'\n", "database.url", "got mysql://"),
        ("[database]\nurl = 'archive.db'\n", "database.url", "expected a URL like sqlite:///"),
    ],
)
def test_bad_config_names_file_key_and_expectation(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert caught.value.key == key
    assert expected in message
    assert "\n" not in message


def test_secrets_come_from_the_named_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, '[bluesky]\nhandle = "me.example"\napp_password_env = "BC_PW"\n')
    config = load_config(path)
    monkeypatch.delenv("BC_PW", raising=False)
    with pytest.raises(ConfigError, match=r"bluesky.app_password_env: environment variable BC_PW"):
        config.secret("bluesky.app_password_env", config.bluesky.app_password_env)
    monkeypatch.setenv("BC_PW", "s3cret")
    assert config.secret("bluesky.app_password_env", "BC_PW") == "s3cret"


def test_mastodon_servers_are_matched_by_url(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[mastodon.scholar]\nbase_url = 'https://Scholar.example/'\naccess_token_env = 'T'\n",
    )
    name, server = load_config(path).mastodon_server("https://scholar.example")
    assert name == "scholar" and server.access_token_env == "T"


def _uncommented_example() -> str:
    """The example with every commented-out `key = value` and table turned on."""
    lines = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^# ?((\[[\w.]+\])|([a-z_]+ = .*))$", line)
        lines.append(match.group(1) if match else line)
    return "\n".join(lines)


def test_example_config_loads_as_is(tmp_path: Path) -> None:
    config = load_config(EXAMPLE)
    assert config.export == Config(path=EXAMPLE).export


def test_example_lists_every_key_with_its_default(tmp_path: Path) -> None:
    data = tomllib.loads(_uncommented_example())
    servers = data.pop("mastodon", {})
    assert servers, "the example shows a [mastodon.<name>] table"
    defaults = asdict(Config(path=EXAMPLE))
    defaults.pop("path")
    defaults.pop("mastodon")
    assert set(data) == set(defaults), "every section is in the example"
    for section, values in defaults.items():
        assert data[section] == values, f"[{section}] in the example matches the defaults"
    parse_config({"mastodon": servers}, EXAMPLE)  # the sample server table is valid
