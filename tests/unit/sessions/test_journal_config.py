"""[journal]: PostgreSQL by url, its password only from a file or an env var, never inline."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, parse_config


def test_no_journal_section_means_sqlite_in_data_dir(tmp_path: Path) -> None:
    assert parse_config({}, base_dir=tmp_path).journal.url is None


def test_url_with_password_from_env_or_file(tmp_path: Path) -> None:
    url = "postgresql://gw@db.internal:5432/krakengw"
    config = parse_config(
        {"journal": {"url": url, "password_env": "PGPW", "pool_size": 8}},
        base_dir=tmp_path,
        environ={"PGPW": "s3cret-pw"},
    )
    assert config.journal.url == url and config.journal.pool_size == 8
    assert config.journal.password is not None
    assert config.journal.password.reveal() == "s3cret-pw"
    assert "s3cret-pw" not in repr(config)
    pw = tmp_path / "pg.password"
    pw.write_text("from-a-file\n")
    pw.chmod(0o600)
    config = parse_config(
        {"journal": {"url": "host=db dbname=krakengw user=gw", "password_file": "pg.password"}},
        base_dir=tmp_path,
    )
    assert config.journal.password is not None
    assert config.journal.password.reveal() == "from-a-file"


@pytest.mark.parametrize(
    "url",
    ["postgresql://gw:hunter2@db/krakengw", "host=db user=gw password=hunter2 dbname=k"],
)
def test_an_inline_password_is_refused_without_echoing_it(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="must not carry a password") as err:
        parse_config({"journal": {"url": url}}, base_dir=tmp_path)
    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize(
    ("journal", "message"),
    [
        ({"password_env": "X"}, "need url"),
        ({"url": "postgresql://db/k", "pool_size": 0}, "pool_size"),
        ({"url": "postgresql://db/k", "password": "inline"}, "unknown key"),
        ({"url": "not a url"}, "PostgreSQL"),
    ],
)
def test_bad_journal_sections(tmp_path: Path, journal: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"journal": journal}, base_dir=tmp_path)


def test_fleet_section(tmp_path: Path) -> None:
    journal = {"url": "postgresql://gw@db/k"}
    accounts = {"a": {"venue": "paper"}, "b": {"venue": "paper"}}
    config = parse_config(
        {
            "journal": journal,
            "accounts": accounts,
            "fleet": {"instance": "gw-1", "lease_ttl_s": 3, "accounts": ["a"], "max_accounts": 1},
        },
        base_dir=tmp_path,
    )
    assert config.fleet is not None
    assert (config.fleet.instance, config.fleet.lease_ttl_s) == ("gw-1", 3.0)
    assert (config.fleet.accounts, config.fleet.max_accounts) == (("a",), 1)
    assert parse_config({}, base_dir=tmp_path).fleet is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"fleet": {}}, "needs \\[journal\\] url"),
        ({"journal": {"url": "postgresql://db/k"}, "fleet": {"accounts": ["x"]}}, "unknown acc"),
        ({"journal": {"url": "postgresql://db/k"}, "fleet": {"max_accounts": 0}}, "positive"),
        ({"journal": {"url": "postgresql://db/k"}, "fleet": {"lease_ttl_s": 0}}, "positive"),
    ],
)
def test_bad_fleet_sections(tmp_path: Path, raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(raw, base_dir=tmp_path)
