from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.config import ApiKeyPair, ConfigError, Secret, load_config
from gateway.core.model import Permission

SECRET = "c3VwZXItc2VjcmV0LWtyYWtlbi1zZWNyZXQ="
KEY = "PUBLIC-API-KEY-abcdef"
TOKEN = "tok-0123456789abcdef-session-a"


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def _config(tmp_path: Path, body: str) -> Path:
    return _write(tmp_path / "gateway.toml", body, 0o644)


BASE = """
[server]
listen = "127.0.0.1:0"
data_dir = "state"
heartbeat_interval_s = 2

[accounts.main]
subaccount = "sub-a"
permissions = ["read", "trade", "drop-copy"]
spot = { key_file = "spot.key", secret_file = "spot.secret" }
futures = { key_env = "FUT_KEY", secret_env = "FUT_SECRET" }

[accounts.main.risk]
max_order_qty = "10"
max_notional = "100000.5"
max_open_orders = 3
allow_no_reference_price = true
reference_max_age_s = 3

[sessions.a]
account = "main"
token_file = "a.token"

[sessions.audit]
account = "main"
token_sha256 = "AUDIT_DIGEST"
permissions = ["read", "drop_copy"]
""".replace("AUDIT_DIGEST", hashlib.sha256(b"audit-token-0123456789").hexdigest())


@pytest.fixture
def good(tmp_path: Path) -> Path:
    _write(tmp_path / "spot.key", KEY + "\n")
    _write(tmp_path / "spot.secret", SECRET + "\n")
    _write(tmp_path / "a.token", TOKEN)
    return _config(tmp_path, BASE)


ENV = {"FUT_KEY": "FUTKEY-123", "FUT_SECRET": "FUTSECRET-456"}


def test_parses_every_section(good: Path) -> None:
    cfg = load_config(good, environ=ENV)
    assert cfg.server.listen == "127.0.0.1:0"
    assert cfg.server.data_dir == good.parent / "state"
    assert cfg.server.heartbeat_interval_s == 2.0
    acct = cfg.accounts["main"]
    assert acct.subaccount == "sub-a"
    assert acct.permissions == {Permission.READ, Permission.TRADE, Permission.DROP_COPY}
    assert acct.spot_key is not None and acct.spot_key.secret.reveal() == SECRET
    assert acct.futures_key is not None and acct.futures_key.key.reveal() == "FUTKEY-123"
    assert acct.risk.max_notional == Decimal("100000.5")
    assert acct.risk.max_open_orders == 3
    assert acct.risk.price_band_pct is None
    assert acct.risk.allow_no_reference_price is True
    assert acct.risk.reference_max_age_s == 3.0 and acct.risk.reference_wait_s == 2.0
    a = cfg.sessions["a"]
    assert a.token_sha256 == hashlib.sha256(TOKEN.encode()).digest()
    # A session that names none gets the account's, except drop_copy (asked for by name only).
    assert a.permissions == {Permission.READ, Permission.TRADE}
    assert cfg.sessions["audit"].permissions == {Permission.READ, Permission.DROP_COPY}


def test_secrets_never_print(good: Path) -> None:
    cfg = load_config(good, environ=ENV)
    text = " ".join(
        [repr(cfg), str(cfg), f"{cfg.accounts['main']}", repr(cfg.accounts["main"].spot_key)]
    )
    spot = cfg.accounts["main"].spot_key
    assert spot is not None
    text += f" {spot.secret} {spot.secret!r} {spot.secret:>10} {spot}"
    for secret in (SECRET, KEY, TOKEN, "FUTKEY-123", "FUTSECRET-456"):
        assert secret not in text
    assert "***" in str(Secret("x"))


def test_key_fingerprint_is_stable_and_not_the_key() -> None:
    pair = ApiKeyPair(Secret(KEY), Secret(SECRET))
    assert pair.fingerprint == ApiKeyPair(Secret(KEY), Secret("other")).fingerprint
    assert KEY not in pair.fingerprint and len(pair.fingerprint) == 12


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_key_file_readable_by_others_is_refused(good: Path, mode: int) -> None:
    (good.parent / "spot.secret").chmod(mode)
    with pytest.raises(ConfigError, match="group or others") as err:
        load_config(good, environ=ENV)
    assert SECRET not in str(err.value)


def test_token_file_readable_by_others_is_refused(good: Path) -> None:
    (good.parent / "a.token").chmod(0o644)
    with pytest.raises(ConfigError, match=r"sessions\.a\.token_file"):
        load_config(good, environ=ENV)


def test_missing_env_var_is_a_clear_error(good: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable FUT_SECRET"):
        load_config(good, environ={"FUT_KEY": "x"})


def test_inline_secret_is_refused(tmp_path: Path) -> None:
    cfg = _config(
        tmp_path,
        '[accounts.m]\nspot = { key = "abc", secret = "def" }\n',
    )
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(cfg, environ={})


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ('[sessions.s]\naccount = "nope"\ntoken_env = "T"\n', "unknown account"),
        ('[accounts.m]\n[sessions.s]\naccount = "m"\n', "exactly one of token"),
        ('[accounts.m]\n[sessions.s]\naccount = "m"\ntoken_sha256 = "xyz"\n', "64 hex"),
        ('[accounts.m]\npermissions = ["read", "fly"]\n', "unknown permission"),
        (
            '[accounts.m]\npermissions = ["read"]\n[sessions.s]\naccount = "m"\n'
            'token_env = "T"\npermissions = ["trade"]\n',
            "exceed",
        ),
        ("[accounts.m.risk]\nmax_order_qty = 1.5\n", "decimal string"),
        ('[accounts.m.risk]\nmax_order_qty = "-1"\n', "positive"),
        ('[accounts.m.risk]\nmax_notional = "abc"\n', "not a decimal"),
        ('[accounts.m.risk]\nallow_no_reference_price = "yes"\n', "true or false"),
        ("[accounts.m.risk]\nreference_wait_s = -1\n", "positive"),
        ("[server]\nheartbeat_interval_s = 0\n", "positive"),
        ("[server]\nheartbeat_interval_s = 10\nheartbeat_timeout_s = 5\n", ">="),
        ('[accounts."bad name"]\n', "name must match"),
        ("[bogus]\n", "unknown key"),
        ("this is = not toml [", "not valid TOML"),
    ],
)
def test_invalid_configs_are_refused(tmp_path: Path, body: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(_config(tmp_path, body), environ={"T": "token-long-enough-123"})


def test_short_token_refused(tmp_path: Path) -> None:
    cfg = _config(tmp_path, '[accounts.m]\n[sessions.s]\naccount = "m"\ntoken_env = "T"\n')
    with pytest.raises(ConfigError, match="too short"):
        load_config(cfg, environ={"T": "short"})


def test_example_config_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "gateway.toml"
    env = {
        "KRAKEN_SPOT_KEY": "k",
        "KRAKEN_SPOT_SECRET": "s",
        "KRAKENGW_ALICE_TOKEN": "alice-token-0123456789",
    }
    cfg = load_config(example, environ=env)
    assert set(cfg.sessions) == {"alice", "audit"}
    assert cfg.accounts["main"].spot_key is not None
    assert cfg.accounts["main"].risk.allow_no_reference_price is False
    assert cfg.sessions["audit"].permissions == frozenset({Permission.READ, Permission.DROP_COPY})


def test_simulator_example_config_parses() -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "simulator.toml"
    cfg = load_config(example, environ={})
    assert cfg.sessions and all(s.account in cfg.accounts for s in cfg.sessions.values())


def test_tls_section_reads_files_and_guards_the_private_key(tmp_path: Path) -> None:
    _write(tmp_path / "cert.pem", "CERT", 0o644)
    _write(tmp_path / "ca.pem", "CA", 0o644)
    key = _write(tmp_path / "key.pem", "PRIVATE-KEY-PEM", 0o600)
    body = '[server.tls]\ncert_file = "cert.pem"\nkey_file = "key.pem"\nclient_ca_file = "ca.pem"\n'
    cfg = load_config(_config(tmp_path, body), environ={})
    assert cfg.server.tls is not None
    assert cfg.server.tls.cert_chain == b"CERT" and cfg.server.tls.client_ca == b"CA"
    assert cfg.server.tls.private_key.reveal() == "PRIVATE-KEY-PEM"
    assert "PRIVATE-KEY-PEM" not in repr(cfg)
    key.chmod(0o640)
    with pytest.raises(ConfigError, match="group or others"):
        load_config(_config(tmp_path, body), environ={})


def test_dead_man_timing(tmp_path: Path) -> None:
    def kraken(body: str) -> Path:
        return _config(tmp_path, f"[kraken]\n{body}")

    default = load_config(kraken(""), environ={}).kraken
    assert default.dead_man_switch
    assert (default.dead_man_timeout_s, default.dead_man_refresh_s) == (60, 20.0)
    short = load_config(kraken("dead_man_timeout_s = 6\n"), environ={}).kraken
    assert short.dead_man_refresh_s == 2.0  # left out: three refreshes per countdown
    both = load_config(kraken("dead_man_timeout_s = 2\ndead_man_refresh_s = 0.5\n"), environ={})
    assert (both.kraken.dead_man_timeout_s, both.kraken.dead_man_refresh_s) == (2, 0.5)
    for bad, match in [
        ("dead_man_timeout_s = 0", "whole seconds"),
        ("dead_man_timeout_s = 1.5", "whole seconds"),
        ("dead_man_timeout_s = 86400", "whole seconds"),
        ("dead_man_timeout_s = 10\ndead_man_refresh_s = 10", "below dead_man_timeout_s"),
        ("dead_man_refresh_s = 0", "positive"),
    ]:
        with pytest.raises(ConfigError, match=match):
            load_config(kraken(bad + "\n"), environ={})


def test_kraken_sections_per_venue(tmp_path: Path) -> None:
    default = load_config(_config(tmp_path, ""), environ={}).kraken
    assert default.futures.rest_url == "https://futures.kraken.com"
    assert default.futures.ws_url == "wss://futures.kraken.com/ws/v1"
    assert default.spot.rest_url == "https://api.kraken.com" and not default.deprecations
    body = (
        "[kraken]\ndead_man_switch = false\n"
        '[kraken.spot]\nrest_url = "http://127.0.0.1:1/"\ntier = "pro"\nws_trading = false\n'
        '[kraken.futures]\nrest_url = "http://127.0.0.1:2"\nws_url = "ws://127.0.0.1:2/ws/v1"\n'
    )
    k = load_config(_config(tmp_path, body), environ={}).kraken
    assert (k.spot.rest_url, k.spot.tier, k.spot.ws_trading) == ("http://127.0.0.1:1", "pro", False)
    assert (k.futures.rest_url, k.futures.ws_url) == (
        "http://127.0.0.1:2",
        "ws://127.0.0.1:2/ws/v1",
    )
    assert not k.dead_man_switch and not k.deprecations
    for bad, match in [
        ('[kraken.futures]\nrest_url = "ftp://x"\n', "http:// or https://"),
        ('[kraken.futures]\nws_public_url = "wss://x"\n', "ws_public_url"),
        ('[kraken.spot]\ntier = "gold"\n', "tier"),
        ('[kraken]\ntier = "pro"\n[kraken.spot]\nws_trading = true\n', "both forms"),
    ]:
        with pytest.raises(ConfigError, match=match):
            load_config(_config(tmp_path, bad), environ={})


def test_old_flat_kraken_keys_still_read_with_a_deprecation(tmp_path: Path) -> None:
    body = '[kraken]\nrest_url = "http://127.0.0.1:9"\ntier = "intermediate"\nws_trading = false\n'
    k = load_config(_config(tmp_path, body), environ={}).kraken
    assert (k.spot.rest_url, k.spot.tier, k.spot.ws_trading) == (
        "http://127.0.0.1:9",
        "intermediate",
        False,
    )
    assert k.futures.rest_url == "https://futures.kraken.com"
    assert len(k.deprecations) == 1
    notice = k.deprecations[0]
    assert "deprecated" in notice and "[kraken.spot]" in notice
    assert "rest_url" in notice and "tier" in notice and "ws_trading" in notice


def test_futures_only_kraken_account(tmp_path: Path) -> None:
    cfg = _config(
        tmp_path,
        '[accounts.f]\nvenue = "kraken"\nfutures = { key_env = "FK", secret_env = "FS" }\n',
    )
    account = load_config(cfg, environ={"FK": KEY, "FS": SECRET}).accounts["f"]
    assert account.trades_on.value == "kraken"
    assert account.spot_key is None and account.futures_key is not None
    with pytest.raises(ConfigError, match="spot or futures keys"):
        load_config(_config(tmp_path, '[accounts.k]\nvenue = "kraken"\n'), environ={})
