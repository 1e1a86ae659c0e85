"""`krakengw`: trade and inspect an account through a krakengw gateway from the shell.

Each run logs on with the session's token, does one thing and logs out again. When the session
is already live elsewhere (a strategy holds it), the command is refused (exit code 5,
REFUSED) and the live session is left alone: the gateway binds every call to the logon that
made it, so a token alone cannot act in another client's live session; give the CLI a session
of its own (e.g. a read-only or cancel-only one). Orders outlive the command: it never asks for
cancel-on-disconnect.

argparse, not click: it is in the standard library, so the client package gains no dependency,
and it lets this module own every exit code (click exits with its own codes on usage errors).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TextIO, cast

from krakengw.builders import OrderOptions
from krakengw.cli import exit_codes
from krakengw.cli.render import print_json, print_record, print_table, text
from krakengw.client import Client
from krakengw.enums import OrdStatus
from krakengw.errors import KrakenGwError
from krakengw.models import BookUpdate, Order
from krakengw.stubs import ALREADY_LOGGED_ON_REASONS

__all__ = ["main"]

TOKEN_ENV = "KRAKENGW_TOKEN"  # noqa: S105 - the name of an environment variable
TARGET_ENV = "KRAKENGW_TARGET"
DEFAULT_TARGET = "127.0.0.1:50051"

ORDER_COLUMNS = (
    "client_order_id",
    "symbol",
    "side",
    "order_type",
    "order_qty",
    "price",
    "ord_status",
    "cum_qty",
    "leaves_qty",
    "avg_px",
)
REPORT_COLUMNS = (
    "sequence",
    "exec_type",
    "ord_status",
    "client_order_id",
    "symbol",
    "side",
    "last_qty",
    "last_px",
    "cum_qty",
    "leaves_qty",
)


class UsageError(Exception):
    """Bad input found after parsing (exit 2)."""


@dataclass
class Run:
    """What a command gets: the logged-on client, its options and where to write."""

    client: Client
    args: argparse.Namespace
    out: TextIO

    @property
    def as_json(self) -> bool:
        return bool(self.args.json)


Command = Callable[[Run], int]


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, errors exit 2
        return int(exc.code or 0)
    command: Command | None = getattr(args, "run", None)
    if command is None:
        parser.print_usage(sys.stderr)
        return exit_codes.USAGE
    try:
        token = _token(args)
    except UsageError as exc:
        print(f"krakengw: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    try:
        with Client(args.target, token, timeout=args.timeout) as client:
            return _session(
                Run(client, args, out), command, needs_logon=args.command != "logon-info"
            )
    except UsageError as exc:
        print(f"krakengw: {exc}", file=sys.stderr)
        return exit_codes.USAGE
    except KrakenGwError as exc:
        print(f"krakengw: {exc}", file=sys.stderr)
        return exit_codes.exit_code_of(exc.code)
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED


def _session(run: Run, command: Command, *, needs_logon: bool) -> int:
    if not needs_logon:
        return command(run)
    try:
        run.client.logon(client_name="krakengw-cli")
    except KrakenGwError as exc:
        if exc.reason in ALREADY_LOGGED_ON_REASONS:
            print(
                "krakengw: the session is live in another client (e.g. a strategy); the gateway "
                "binds calls to the logon that made them, so give the CLI a session of its own",
                file=sys.stderr,
            )
            return exit_codes.REFUSED
        raise
    try:
        return command(run)
    finally:
        run.client.logout()


def _token(args: argparse.Namespace) -> str:
    if args.token:
        return str(args.token)
    if args.token_file is not None:
        try:
            token = Path(args.token_file).read_text().strip()
        except OSError as exc:
            raise UsageError(f"cannot read the token file: {exc.strerror}") from None
        if not token:
            raise UsageError("the token file is empty")
        return token
    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise UsageError(f"no token: give --token, --token-file or ${TOKEN_ENV}")
    return token


def _decimal(value: str) -> Decimal:
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal number: {value!r}") from None
    if not parsed.is_finite():
        raise argparse.ArgumentTypeError(f"not a finite number: {value!r}")
    return parsed


def _version() -> str:
    try:
        return version("krakengw-client")
    except PackageNotFoundError:
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="krakengw",
        description="Trade and inspect an account through a krakengw gateway.",
        epilog=exit_codes.EXIT_CODES_HELP
        + f"\n\ntoken: --token, --token-file, or ${TOKEN_ENV} (in that order); never printed",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"krakengw {_version()}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--target",
        default=os.environ.get(TARGET_ENV, DEFAULT_TARGET),
        help=f"gateway HOST:PORT (default ${TARGET_ENV} or {DEFAULT_TARGET})",
    )
    common.add_argument(
        "--token",
        help=(
            f"bearer token (prefer --token-file or ${TOKEN_ENV}); "
            "write --token=VALUE when it starts with -"
        ),
    )
    common.add_argument("--token-file", type=Path, help="file holding the bearer token")
    common.add_argument("--json", action="store_true", help="JSON output for scripts")
    common.add_argument("--timeout", type=float, default=10.0, help="seconds per call (default 10)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, run: Command, help_text: str, **kw: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text, **kw)
        p.set_defaults(run=run)
        return p

    orders = sub.add_parser("orders", help="list, get, submit, amend and cancel orders")
    osub = orders.add_subparsers(dest="orders_command", metavar="ACTION", required=True)

    def order_command(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        p = osub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(run=run, command=f"orders {name}")
        return p

    p = order_command("list", _orders_list, "open orders (--all: every order, also closed)")
    p.add_argument("--symbol")
    p.add_argument("--all", action="store_true")
    p = order_command("get", _orders_get, "one order by client order id (or --venue-id)")
    _order_id(p)
    p = order_command("submit", _orders_submit, "submit an order (limit when --price is given)")
    p.add_argument("symbol", help="e.g. BTC/USD")
    p.add_argument("side", choices=["buy", "sell"])
    p.add_argument("qty", type=_decimal)
    p.add_argument("--price", type=_decimal)
    p.add_argument("--stop-price", type=_decimal)
    p.add_argument("--type", dest="order_type", help="market, limit, stop-loss, ... (see enums)")
    p.add_argument("--tif", dest="time_in_force", help="gtc, ioc, fok, gtd")
    p.add_argument("--client-order-id")
    p.add_argument("--post-only", action="store_true")
    p.add_argument("--reduce-only", action="store_true")
    p.add_argument("--validate-only", action="store_true")
    p = order_command("amend", _orders_amend, "amend an open order in place")
    _order_id(p)
    p.add_argument("--qty", type=_decimal)
    p.add_argument("--price", type=_decimal)
    p.add_argument("--stop-price", type=_decimal)
    p = order_command("cancel", _orders_cancel, "cancel one order")
    _order_id(p)
    p = order_command("cancel-all", _orders_cancel_all, "cancel every open order (or one symbol's)")
    p.add_argument("--symbol")

    p = command("fills", _fills, "fills (executions), newest last")
    p.add_argument("--symbol")
    p.add_argument("--order", dest="client_order_id", help="only this client order id's fills")
    p = command("balances", _balances, "balances per asset")
    p.add_argument("--wallet")
    p = command("positions", _positions, "open positions")
    p.add_argument("--symbol")
    command("limits", _limits, "risk limits and rate budget headroom")
    p = command("instruments", _instruments, "tradable instruments")
    p.add_argument("--venue")
    p = command("ticker", _ticker, "best bid/ask and 24 h statistics")
    p.add_argument("symbol")
    p = command("book", _book, "the order book (first snapshot of the book stream)")
    p.add_argument("symbol")
    p.add_argument("--depth", type=int, default=10)
    p = command(
        "stream",
        _stream,
        "execution reports after --from-sequence, replayed then live (resumes on reconnect)",
    )
    p.add_argument("--from-sequence", type=int, default=0, help="resume after this sequence")
    p.add_argument("--count", type=int, help="stop after this many reports")
    p.add_argument("--drop-copy", action="store_true", help="every session of the account")
    command("logon-info", _logon_info, "log on and show the session (then log out)")
    return parser


def _order_id(p: argparse.ArgumentParser) -> None:
    p.add_argument("client_order_id", nargs="?")
    p.add_argument("--venue-id", dest="venue_order_id", help="the venue's order id instead")


def _ids(args: argparse.Namespace) -> tuple[str | None, str | None]:
    if (args.client_order_id is None) == (args.venue_order_id is None):
        raise UsageError("give a client order id or --venue-id (one of them)")
    return args.client_order_id, args.venue_order_id


def _show_order(run: Run, order: Order) -> int:
    if run.as_json:
        print_json(order, run.out)
    else:
        print_record(order, run.out)
    return exit_codes.REFUSED if order.ord_status is OrdStatus.REJECTED else exit_codes.OK


def _show_list(run: Run, rows: Sequence[Any], columns: Sequence[str]) -> int:
    if run.as_json:
        print_json(list(rows), run.out)
    else:
        print_table(rows, columns, run.out)
    return exit_codes.OK


def _show_one(run: Run, value: Any) -> int:
    if run.as_json:
        print_json(value, run.out)
    else:
        print_record(value, run.out)
    return exit_codes.OK


def _orders_list(run: Run) -> int:
    a = run.args
    rows = run.client.list_orders(a.symbol) if a.all else run.client.list_open_orders(a.symbol)
    return _show_list(run, rows, ORDER_COLUMNS)


def _orders_get(run: Run) -> int:
    cid, vid = _ids(run.args)
    return _show_order(run, run.client.get_order(cid, venue_order_id=vid))


def _orders_submit(run: Run) -> int:
    a = run.args
    options: OrderOptions = {}
    for name in ("price", "stop_price", "order_type", "time_in_force", "client_order_id"):
        value = getattr(a, name)
        if value is not None:
            options[name] = value
    for flag in ("post_only", "reduce_only", "validate_only"):
        if getattr(a, flag):
            options[flag] = True
    try:
        order = run.client.submit_order(a.symbol, a.side, a.qty, **options)
    except (ValueError, TypeError) as exc:  # e.g. an unknown --type name
        raise UsageError(str(exc)) from None
    return _show_order(run, order)


def _orders_amend(run: Run) -> int:
    a = run.args
    cid, vid = _ids(a)
    changes = {k: getattr(a, k) for k in ("qty", "price", "stop_price") if getattr(a, k)}
    if not changes:
        raise UsageError("nothing to amend: give --qty, --price or --stop-price")
    return _show_order(run, run.client.amend_order(cid, venue_order_id=vid, **changes))


def _orders_cancel(run: Run) -> int:
    cid, vid = _ids(run.args)
    return _show_order(run, run.client.cancel_order(cid, venue_order_id=vid))


def _orders_cancel_all(run: Run) -> int:
    count = run.client.cancel_all_orders(run.args.symbol)
    if run.as_json:
        print_json({"canceled_count": count}, run.out)
    else:
        run.out.write(f"canceled {count} order(s)\n")
    return exit_codes.OK


def _fills(run: Run) -> int:
    a = run.args
    rows = run.client.list_fills(a.symbol, client_order_id=a.client_order_id)
    columns = ("venue_time", "client_order_id", "symbol", "side", "qty", "price", "liquidity")
    return _show_list(run, rows, columns)


def _balances(run: Run) -> int:
    rows = run.client.list_balances(run.args.wallet)
    return _show_list(run, rows, ("asset", "wallet", "total", "available", "held"))


def _positions(run: Run) -> int:
    rows = run.client.list_positions(run.args.symbol)
    columns = ("symbol", "qty", "entry_price", "mark_price", "unrealized_pnl", "leverage")
    return _show_list(run, rows, columns)


def _limits(run: Run) -> int:
    limits = run.client.get_limits()
    if run.as_json:
        print_json(limits, run.out)
        return exit_codes.OK
    print_record(limits.risk_limits, run.out)
    if limits.retry_after is not None:
        run.out.write(f"retry_after  {limits.retry_after.total_seconds()}s\n")
    run.out.write("\n")
    columns = ("name", "limit", "used", "headroom", "decay_per_second")
    print_table(limits.rate_budgets, columns, run.out)
    return exit_codes.OK


def _instruments(run: Run) -> int:
    rows = run.client.list_instruments(run.args.venue)
    columns = ("venue", "symbol", "product_type", "tick_size", "lot_size", "min_qty", "status")
    return _show_list(run, rows, columns)


def _ticker(run: Run) -> int:
    return _show_one(run, run.client.get_ticker(run.args.symbol))


def _book(run: Run) -> int:
    a = run.args
    # A generator: closing it cancels the gRPC stream.
    # --timeout bounds the wait for the snapshot (a venue that never sends one fails with
    # DEADLINE_EXCEEDED, exit 3, instead of hanging).
    stream = cast(
        Generator[BookUpdate],
        run.client.stream_book(a.symbol, depth=a.depth, timeout=a.timeout),
    )
    try:
        update = next(u for u in stream if u.snapshot)
    finally:
        stream.close()
    if run.as_json:
        print_json(update, run.out)
        return exit_codes.OK
    run.out.write(f"{update.venue} {update.symbol}\n")
    rows = [
        (b.price if b else None, b.qty if b else None, s.price if s else None, s.qty if s else None)
        for b, s in _pairs(update.bids, update.asks)
    ]
    print_table([_BookRow(*r) for r in rows], ("bid_qty", "bid", "ask", "ask_qty"), run.out)
    return exit_codes.OK


@dataclass
class _BookRow:
    bid: Decimal | None
    bid_qty: Decimal | None
    ask: Decimal | None
    ask_qty: Decimal | None


def _pairs(bids: Sequence[Any], asks: Sequence[Any]) -> list[tuple[Any, Any]]:
    depth = max(len(bids), len(asks))
    return [
        (bids[i] if i < len(bids) else None, asks[i] if i < len(asks) else None)
        for i in range(depth)
    ]


def _stream(run: Run) -> int:
    """One line per report as it arrives (JSON Lines with --json); the sequence column is the
    position to resume from with --from-sequence."""
    a = run.args
    if a.count is not None and a.count < 1:
        raise UsageError("--count must be at least 1")
    stream = run.client.stream_executions(a.from_sequence, drop_copy=a.drop_copy)
    seen = 0
    try:
        if not run.as_json:
            run.out.write("  ".join(c.upper() for c in REPORT_COLUMNS) + "\n")
        for report in stream:
            if run.as_json:
                print_json(report, run.out, compact=True)
            else:
                run.out.write("  ".join(text(getattr(report, c)) for c in REPORT_COLUMNS) + "\n")
                run.out.flush()
            seen += 1
            if a.count is not None and seen >= a.count:
                break
    finally:
        stream.close()
    return exit_codes.OK


def _logon_info(run: Run) -> int:
    info = run.client.logon(client_name="krakengw-cli")
    try:
        return _show_one(run, info)
    finally:
        run.client.logout()
