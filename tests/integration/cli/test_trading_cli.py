"""The `krakengw` trading command against a live gateway on the simulator (the krakengw pytest
plugin's fixtures): one test per command, JSON output parsed, exit codes by failure class, and
the token never printed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from krakengw import Client
from krakengw.cli import main
from krakengw_testing import LocalGateway

RESTING = "1000"  # far below the market: a limit buy at this price rests

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(
    krakengw_gateway: LocalGateway,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    """Runs `krakengw ARGS --target ... ` in-process with the token from $KRAKENGW_TOKEN;
    returns (exit code, stdout, stderr) and checks the token appears in neither."""
    monkeypatch.setenv("KRAKENGW_TOKEN", krakengw_gateway.token)

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--target", krakengw_gateway.target])
        out, err = capsys.readouterr()
        assert krakengw_gateway.token not in out + err
        return code, out, err

    return run


def run_json(cli: Cli, *args: str) -> Any:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def submit_resting(cli: Cli, qty: str = "0.01") -> dict[str, Any]:
    order = run_json(cli, "orders", "submit", "BTC/USD", "buy", qty, "--price", RESTING)
    assert order["ord_status"] == "NEW"
    return order  # type: ignore[no-any-return]


def test_orders_submit_limit_rests_and_market_fills(cli: Cli) -> None:
    order = submit_resting(cli)
    assert order["price"] == RESTING and order["order_qty"] == "0.01"  # strings, never floats
    code, out, _ = cli("orders", "submit", "BTC/USD", "buy", "0.01")  # human output
    assert code == 0
    fields = dict(line.split(maxsplit=1) for line in out.splitlines() if " " in line)
    assert fields["order_type"] == "MARKET" and fields["order_qty"] == "0.01"


def test_orders_submit_refused_and_usage_errors(cli: Cli) -> None:
    code, _, err = cli("orders", "submit", "BTC/USD", "buy", "0", "--price", RESTING)
    assert code == 5, err  # INVALID_ARGUMENT: refused
    code, _, err = cli("orders", "submit", "BTC/USD", "buy", "abc")
    assert code == 2 and "not a decimal" in err
    code, _, err = cli("orders", "submit", "BTC/USD", "buy", "1", "--type", "no-such-type")
    assert code == 2, err


def test_orders_list(cli: Cli) -> None:
    order = submit_resting(cli)
    listed = run_json(cli, "orders", "list")
    assert [o["client_order_id"] for o in listed] == [order["client_order_id"]]
    code, out, _ = cli("orders", "list", "--symbol", "BTC/USD")
    assert code == 0 and order["client_order_id"] in out and "CLIENT_ORDER_ID" in out
    run_json(cli, "orders", "cancel", order["client_order_id"])
    assert run_json(cli, "orders", "list") == []
    every = run_json(cli, "orders", "list", "--all")
    assert [o["ord_status"] for o in every] == ["CANCELED"]


def test_orders_get(cli: Cli) -> None:
    order = submit_resting(cli)
    got = run_json(cli, "orders", "get", order["client_order_id"])
    assert got["client_order_id"] == order["client_order_id"] and got["ord_status"] == "NEW"
    by_venue = run_json(cli, "orders", "get", "--venue-id", got["venue_order_id"])
    assert by_venue["client_order_id"] == order["client_order_id"]
    code, _, err = cli("orders", "get", "no-such-order")
    assert code == 6 and "ORDER_NOT_FOUND" in err
    code, _, err = cli("orders", "get")
    assert code == 2 and "client order id" in err


def test_orders_amend(cli: Cli) -> None:
    order = submit_resting(cli)
    amended = run_json(cli, "orders", "amend", order["client_order_id"], "--price", "1001")
    assert amended["price"] == "1001"
    assert run_json(cli, "orders", "get", order["client_order_id"])["price"] == "1001"
    code, _, err = cli("orders", "amend", order["client_order_id"])
    assert code == 2 and "nothing to amend" in err


def test_orders_cancel(cli: Cli) -> None:
    order = submit_resting(cli)
    canceled = run_json(cli, "orders", "cancel", order["client_order_id"])
    assert canceled["ord_status"] in {"CANCELED", "PENDING_CANCEL"}
    assert run_json(cli, "orders", "get", order["client_order_id"])["ord_status"] == "CANCELED"


def test_orders_cancel_all(cli: Cli) -> None:
    submit_resting(cli)
    submit_resting(cli)
    assert run_json(cli, "orders", "cancel-all") == {"canceled_count": 2}
    code, out, _ = cli("orders", "cancel-all", "--symbol", "BTC/USD")
    assert code == 0 and out == "canceled 0 order(s)\n"


def test_fills(cli: Cli, krakengw_client: Client) -> None:
    placed = krakengw_client.submit_order("BTC/USD", "buy", "0.02", order_type="MARKET")
    order = {"client_order_id": placed.client_order_id}
    for report in krakengw_client.stream_executions(0):  # wait for the fill
        if report.client_order_id == order["client_order_id"] and report.leaves_qty == 0:
            break
    krakengw_client.logout()  # the CLI logs on with the same session's token
    fills = run_json(cli, "fills", "--order", order["client_order_id"])
    assert fills and sum(Decimal(f["qty"]) for f in fills) == Decimal("0.02")
    assert {f["side"] for f in fills} == {"BUY"}
    code, out, _ = cli("fills", "--symbol", "BTC/USD")
    assert code == 0 and order["client_order_id"] in out


def test_balances(cli: Cli) -> None:
    balances = {b["asset"]: b for b in run_json(cli, "balances")}
    assert Decimal(balances["USD"]["total"]) > 0
    code, out, _ = cli("balances")
    assert code == 0 and out.splitlines()[0].split() == [
        "ASSET",
        "WALLET",
        "TOTAL",
        "AVAILABLE",
        "HELD",
    ]


def test_positions(cli: Cli) -> None:
    assert run_json(cli, "positions") == []  # spot: no positions
    code, out, _ = cli("positions")
    assert code == 0 and "(none)" in out


def test_limits(cli: Cli) -> None:
    limits = run_json(cli, "limits")
    assert {b["name"] for b in limits["rate_budgets"]} >= {"spot_rest"}
    assert "risk_limits" in limits
    code, out, _ = cli("limits")
    assert code == 0 and "spot_rest" in out


def test_instruments(cli: Cli) -> None:
    symbols = {i["symbol"] for i in run_json(cli, "instruments")}
    assert "BTC/USD" in symbols
    code, out, _ = cli("instruments", "--venue", "kraken")
    assert code == 0 and "BTC/USD" in out


def test_ticker(cli: Cli) -> None:
    ticker = run_json(cli, "ticker", "BTC/USD")
    assert Decimal(ticker["bid"]) < Decimal(ticker["ask"])
    code, out, _ = cli("ticker", "BTC/USD")
    assert code == 0 and out.startswith("venue")


def test_book(cli: Cli) -> None:
    book = run_json(cli, "book", "BTC/USD", "--depth", "10")
    assert book["snapshot"] is True and book["bids"] and book["asks"]
    assert Decimal(book["bids"][0]["price"]) < Decimal(book["asks"][0]["price"])
    code, out, _ = cli("book", "BTC/USD", "--depth", "25")
    assert code == 0 and out.splitlines()[1].split() == ["BID_QTY", "BID", "ASK", "ASK_QTY"]


def test_stream_resumes_from_sequence(cli: Cli) -> None:
    order = submit_resting(cli)
    code, out, err = cli("stream", "--from-sequence", "0", "--count", "2", "--json")
    assert code == 0, err
    reports = [json.loads(line) for line in out.splitlines()]
    assert [r["sequence"] for r in reports] == [1, 2]
    assert {r["client_order_id"] for r in reports} == {order["client_order_id"]}
    assert reports[-1]["exec_type"] == "NEW"
    run_json(cli, "orders", "cancel", order["client_order_id"])
    code, out, _ = cli("stream", "--from-sequence", "2", "--count", "1", "--json")
    (resumed,) = [json.loads(line) for line in out.splitlines()]
    assert resumed["sequence"] == 3
    code, out, _ = cli("stream", "--from-sequence", "0", "--count", "1")
    assert code == 0 and out.splitlines()[0].startswith("SEQUENCE")


def test_logon_info(cli: Cli, krakengw_gateway: LocalGateway) -> None:
    info = run_json(cli, "logon-info")
    assert info["session_id"] == krakengw_gateway.session_id
    assert "TRADE" in info["permissions"]
    code, out, _ = cli("logon-info")
    assert code == 0 and "session_id" in out


def test_refuses_to_act_inside_another_clients_live_session(
    cli: Cli, krakengw_client: Client
) -> None:
    # The fixture's client holds the session: the token alone cannot act in it.
    code, out, err = cli("orders", "submit", "BTC/USD", "buy", "0.01", "--price", RESTING)
    assert code == 5 and out == ""
    assert "live in another client" in err
    assert krakengw_client.list_open_orders() == []
    krakengw_client.heartbeat()  # still logged on, untouched


def test_token_sources_and_auth_failures(
    krakengw_gateway: LocalGateway,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = ["--target", krakengw_gateway.target]
    monkeypatch.delenv("KRAKENGW_TOKEN", raising=False)
    assert main(["balances", *target]) == 2
    assert "no token" in capsys.readouterr().err
    token_file = tmp_path / "token"
    token_file.write_text(krakengw_gateway.token + "\n")
    assert main(["balances", "--token-file", str(token_file), "--json", *target]) == 0
    assert json.loads(capsys.readouterr().out)
    assert main(["balances", f"--token={krakengw_gateway.token}", *target]) == 0
    assert main(["balances", "--token", "t" + krakengw_gateway.token[1:], *target]) == 0
    wrong = "wrong-token-value-123"
    assert main(["balances", "--token", wrong, *target]) == 4
    captured = capsys.readouterr()
    assert "UNAUTHENTICATED" in captured.err
    assert wrong not in captured.out + captured.err
    assert krakengw_gateway.token not in captured.out + captured.err


def test_unreachable_gateway_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(["balances", "--token", "t", "--timeout", "2", "--target", f"127.0.0.1:{port}"])
    assert code == 3, capsys.readouterr().err


def test_module_entry_and_version() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "krakengw.cli", "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert run.returncode == 0 and run.stdout.startswith("krakengw ")
    run = subprocess.run(
        [sys.executable, "-m", "krakengw.cli", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert run.returncode == 0 and "exit codes:" in run.stdout


def test_book_waits_at_most_the_timeout_for_a_snapshot(cli: Cli) -> None:
    # Kraken's book channel knows depths 10, 25, 100, 500 and 1000 only. Today the gateway
    # sends no snapshot for depth 7 (the command gives up after --timeout: exit 3); if it
    # learns to refuse the depth (INVALID_ARGUMENT: exit 5), the command must not hang either.
    code, _, err = cli("book", "BTC/USD", "--depth", "7", "--timeout", "2")
    assert (code, code == 3 and "DEADLINE_EXCEEDED" in err) in {(3, True), (5, False)}, err
