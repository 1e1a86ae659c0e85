"""The PostgreSQL journal's schema: migrated at open or by `kraken-gateway db migrate`,
reported by `db status`, and a schema newer than the code is refused with one clear line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest

from gateway import cli
from gateway.journal import PostgresJournal
from gateway.journal.pg_schema import LATEST, SchemaTooNew
from tests.support.postgres import PostgresServer


def _config(tmp_path: Path, server: PostgresServer, url: str) -> Path:
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[journal]\nurl = "{url}"\npassword_file = "{server.password_file}"\n'
        '[accounts.p]\nvenue = "paper"\n'
    )
    return config


def test_db_status_and_migrate(
    tmp_path: Path, postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(_config(tmp_path, postgres_server, postgres_server.create_database()))
    assert cli.main(["db", "status", "--config", config]) == 1
    assert "schema version 0, this gateway needs" in capsys.readouterr().out
    assert cli.main(["db", "migrate", "--config", config]) == 0
    assert f"migrated from version 0 to {LATEST}" in capsys.readouterr().out
    assert cli.main(["db", "migrate", "--config", config]) == 0
    assert "nothing to migrate" in capsys.readouterr().out
    assert cli.main(["db", "status", "--config", config]) == 0
    assert "up to date" in capsys.readouterr().out


def test_db_needs_a_journal_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('[accounts.p]\nvenue = "paper"\n')
    assert cli.main(["db", "status", "--config", str(config)]) == 2
    assert "no [journal] url" in capsys.readouterr().err


async def _migrate_beyond_this_gateway(url: str, password: str) -> None:
    journal = await PostgresJournal.open(url, password=password)
    await journal.close()
    async with await psycopg.AsyncConnection.connect(
        url, password=password, autocommit=True
    ) as conn:
        await conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (LATEST + 1,))
    with pytest.raises(SchemaTooNew, match="newer than this gateway"):
        await PostgresJournal.open(url, password=password)


def test_a_newer_schema_is_refused(
    tmp_path: Path, postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_server.create_database()
    asyncio.run(_migrate_beyond_this_gateway(url, postgres_server.password))
    config = str(_config(tmp_path, postgres_server, url))
    assert cli.main(["db", "status", "--config", config]) == 1
    assert "newer than this gateway" in capsys.readouterr().out
    # `serve` stops before listening, with one line and no traceback.
    token = tmp_path / "t"
    token.write_text("a-token-of-sixteen-chars-or-more")
    token.chmod(0o600)
    with Path(config).open("a") as f:
        f.write(f'[sessions.p]\naccount = "p"\ntoken_file = "{token}"\n')
    code = cli.main(["serve", "--config", config, "--listen", "127.0.0.1:0"])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith("kraken-gateway: the journal database has schema version")
    assert len(err.splitlines()) == 1


async def test_a_wrong_password_is_one_clear_error(postgres_server: PostgresServer) -> None:
    with pytest.raises(Exception, match="cannot connect to the journal database") as err:
        await PostgresJournal.open(postgres_server.url(), password="wrong-password-xyz")
    assert "wrong-password-xyz" not in str(err.value)
