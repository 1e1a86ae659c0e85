"""The demo strategy: a small trading script that uses only the Python client over gRPC.

`kraken-gateway demo` starts the local Kraken simulator and the gateway, then runs `run_demo`:
logon, list instruments, ticker; a resting limit order that is amended, then canceled; a
marketable buy and sell that fill; a limit order bigger than the best ask (a partial fill
where the book allows it); a batch of three resting orders canceled as a batch; balances.
Then, when the session also trades Kraken Futures (the perpetual BTC/USD:USD is listed): a
resting perpetual limit order, a marketable one that fills, the position it opened, a
reduce-only close and the position flat again, all on the same execution stream. Logout. A
concurrent task prints every ExecutionReport as it streams.

Each step waits for the reports it must cause, with a timeout (no sleeps): if one does not
arrive, the demo says which and `run_demo` returns 1. It can also run against any gateway
whose session trades a venue listing BTC/USD: `python -m gateway.demo HOST:PORT` (token from
$KRAKENGW_TOKEN or the development token).
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Callable, Iterable
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from krakengw import (
    AsyncClient,
    ExecType,
    ExecutionReport,
    Instrument,
    KrakenGwError,
    OrdStatus,
    order_spec,
)

__all__ = ["DemoFailed", "run_demo"]

SYMBOL = "BTC/USD"
PERPETUAL = "BTC/USD:USD"
FUTURES_VENUE = "krakenfutures"
WAIT_S = 15.0
QTY = Decimal("0.01")
COLUMNS = (
    ("seq", 4),
    ("order", 9),
    ("exec_type", 15),
    ("ord_status", 16),
    ("symbol", 11),
    ("side", 4),
    ("qty", 6),
    ("price", 10),
    ("cum", 6),
    ("leaves", 6),
    ("avg_px", 10),
    ("last_qty", 8),
    ("last_px", 10),
    ("fee", 14),
)


class DemoFailed(Exception):
    """An expected report or answer did not come; the message says which."""


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "-"
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


class ReportTable:
    """Prints each report as a table row and lets the strategy wait for a given report."""

    def __init__(self, out: Callable[[str], None], wait_s: float = WAIT_S) -> None:
        self._out = out
        self.wait_s = wait_s
        self._labels: dict[str, str] = {}
        self.reports: list[ExecutionReport] = []
        self._changed = asyncio.Condition()

    def label(self, client_order_id: str, name: str) -> None:
        self._labels[client_order_id] = name

    def header(self) -> None:
        self._out(" ".join(f"{name:<{width}}" for name, width in COLUMNS))
        self._out(" ".join("-" * width for _, width in COLUMNS))

    async def add(self, r: ExecutionReport) -> None:
        fee = f"{_fmt(r.fee.amount)} {r.fee.asset}" if r.fee is not None else "-"
        cells = (
            str(r.sequence),
            self._labels.get(r.client_order_id, r.client_order_id[:9]),
            r.exec_type.value if r.exec_type else "?",
            r.ord_status.value if r.ord_status else "?",
            r.symbol,
            r.side.value if r.side else "?",
            _fmt(r.order_qty),
            _fmt(r.price),
            _fmt(r.cum_qty),
            _fmt(r.leaves_qty),
            _fmt(r.avg_px) if r.cum_qty else "-",
            _fmt(r.last_qty) if r.last_qty else "-",
            _fmt(r.last_px) if r.last_qty else "-",
            fee,
        )
        self._out(" ".join(f"{c:<{w}}" for c, (_, w) in zip(cells, COLUMNS, strict=True)))
        async with self._changed:
            self.reports.append(r)
            self._changed.notify_all()

    def _found(self, cid: str, kinds: frozenset[ExecType]) -> ExecutionReport | None:
        for r in self.reports:
            if r.client_order_id == cid and r.exec_type in kinds:
                return r
        return None

    async def wait(self, cid: str, *kinds: ExecType) -> ExecutionReport:
        """The first report of order `cid` whose exec type is one of `kinds` (DemoFailed if
        none arrives within `wait_s`)."""
        wanted = frozenset(kinds)
        try:
            async with asyncio.timeout(self.wait_s), self._changed:
                await self._changed.wait_for(lambda: self._found(cid, wanted) is not None)
        except TimeoutError:
            name = self._labels.get(cid, cid)
            expected = "/".join(sorted(k.value for k in wanted))
            raise DemoFailed(
                f"no {expected} report for order {name} within {self.wait_s}s"
            ) from None
        found = self._found(cid, wanted)
        assert found is not None
        return found


class _Orders:
    """Run-unique client order ids with readable labels."""

    def __init__(self, table: ReportTable) -> None:
        self._table = table
        self._run = uuid.uuid4().hex[:8]

    def new(self, label: str) -> str:
        cid = f"demo-{self._run}-{label}"
        self._table.label(cid, label)
        return cid


def _round(price: Decimal, tick: Decimal | None, rounding: str = ROUND_DOWN) -> Decimal:
    if not tick:
        return price
    return (price / tick).to_integral_value(rounding=rounding) * tick


async def run_demo(
    target: str,
    token: str,
    *,
    out: Callable[[str], None] = print,
    timeout_s: float = WAIT_S,
) -> int:
    """Trade through the gateway at `target`; 0 when every expected report arrived."""

    def say(text: str) -> None:
        out(f"\n== {text}")

    client = AsyncClient(target, token, timeout=timeout_s)
    table = ReportTable(out, timeout_s)
    reader: asyncio.Task[None] | None = None
    try:
        info = await client.logon()
        say(f"logged on: session {info.session_id}, account {info.account}")
        instruments = await client.list_instruments()
        say(f"{len(instruments)} instruments")
        for inst in instruments:
            out(
                f"  {inst.symbol:<10} {inst.venue_symbol:<10} tick {_fmt(inst.tick_size):<10} "
                f"lot {_fmt(inst.lot_size):<10} min qty {_fmt(inst.min_qty)}"
            )
        btc = _instrument(instruments, SYMBOL)
        ticker = await client.get_ticker(SYMBOL)
        if ticker.bid is None or ticker.ask is None:
            raise DemoFailed(f"{SYMBOL} has no bid/ask")
        say(
            f"{SYMBOL} bid {_fmt(ticker.bid)} x {_fmt(ticker.bid_qty)}, ask {_fmt(ticker.ask)} "
            f"x {_fmt(ticker.ask_qty)}, last {_fmt(ticker.last)}"
        )

        say("execution reports (streaming concurrently)")
        table.header()
        stream = client.stream_executions(info.last_sequence)

        async def read() -> None:
            async for report in stream:
                await table.add(report)

        reader = asyncio.create_task(read())
        ids = _Orders(table)
        await _rest_amend_cancel(client, table, ids, ticker.bid, btc.tick_size)
        await _take(client, table, ids)
        await _partial(client, table, ids, btc.tick_size)
        await _batch(client, table, ids, ticker.bid, btc.tick_size)

        balances = await client.list_balances()
        say("balances: " + ", ".join(f"{b.asset} {_fmt(b.total)}" for b in balances[:6]))
        perpetual = next((i for i in instruments if i.symbol == PERPETUAL), None)
        if perpetual is not None:
            await _futures(client, table, ids, perpetual, say)
        seen = sorted({r.exec_type.value for r in table.reports if r.exec_type})
        say(f"{len(table.reports)} execution reports; exec types seen: {', '.join(seen)}")
        await client.logout()
        await asyncio.wait_for(reader, timeout_s)  # logout ends the stream
        reader = None
        say("logged out; demo complete")
        return 0
    except (DemoFailed, KrakenGwError, TimeoutError) as exc:
        print(f"demo FAILED: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await client.close()


def _instrument(instruments: Iterable[Instrument], symbol: str) -> Instrument:
    for inst in instruments:
        if inst.symbol == symbol:
            return inst
    raise DemoFailed(f"{symbol} is not listed")


async def _rest_amend_cancel(
    client: AsyncClient,
    table: ReportTable,
    ids: _Orders,
    bid: Decimal,
    tick: Decimal | None,
) -> None:
    cid = ids.new("rest-1")
    price = _round(bid * Decimal("0.95"), tick)
    await client.submit_order(SYMBOL, "buy", QTY, price=price, client_order_id=cid)
    await table.wait(cid, ExecType.NEW)
    new_price = _round(bid * Decimal("0.96"), tick)
    await client.amend_order(cid, qty=QTY * 2, price=new_price)
    # An in-place amend is reported as FIX ExecType REPLACED (or RESTATED by the venue).
    await table.wait(cid, ExecType.REPLACED, ExecType.RESTATED)
    await client.cancel_order(cid)
    await table.wait(cid, ExecType.CANCELED)


async def _take(client: AsyncClient, table: ReportTable, ids: _Orders) -> None:
    for side, label in (("buy", "take-buy"), ("sell", "take-sell")):
        cid = ids.new(label)
        await client.submit_order(SYMBOL, side, QTY, order_type="MARKET", client_order_id=cid)
        await table.wait(cid, ExecType.FILL)


async def _partial(
    client: AsyncClient, table: ReportTable, ids: _Orders, tick: Decimal | None
) -> None:
    """A limit buy at the best ask for more than its size: the ask fills it in part, the rest
    rests (unless the market moves onto it); the rest is then canceled."""
    ticker = await client.get_ticker(SYMBOL)
    if ticker.ask is None or not ticker.ask_qty:
        raise DemoFailed(f"{SYMBOL} has no ask")
    cid = ids.new("sweep-1")
    qty = ticker.ask_qty + QTY
    price = _round(ticker.ask, tick, ROUND_UP)
    await client.submit_order(SYMBOL, "buy", qty, price=price, client_order_id=cid)
    first = await table.wait(cid, ExecType.PARTIAL_FILL, ExecType.FILL)
    if first.exec_type is ExecType.FILL:
        return
    order = await client.get_order(cid)
    if order.ord_status in (OrdStatus.FILLED, OrdStatus.CANCELED):
        return
    try:
        await client.cancel_order(cid)
    except KrakenGwError:
        # Filled in the meantime: then its FILL must come.
        await table.wait(cid, ExecType.FILL)
        return
    await table.wait(cid, ExecType.CANCELED, ExecType.FILL)


async def _batch(
    client: AsyncClient,
    table: ReportTable,
    ids: _Orders,
    bid: Decimal,
    tick: Decimal | None,
) -> None:
    cids = [ids.new(f"batch-{i}") for i in (1, 2, 3)]
    specs = [
        order_spec(
            SYMBOL,
            "buy",
            QTY,
            price=_round(bid * (Decimal("0.90") - Decimal(i) / 100), tick),
            client_order_id=cid,
        )
        for i, cid in enumerate(cids)
    ]
    results = await client.submit_order_batch(specs)
    failed = [str(r) for r in results if isinstance(r, KrakenGwError)]
    if failed:
        raise DemoFailed(f"batch orders refused: {failed}")
    for cid in cids:
        await table.wait(cid, ExecType.NEW)
    canceled = await client.cancel_order_batch(cids)
    failed = [str(r) for r in canceled if isinstance(r, KrakenGwError)]
    if failed:
        raise DemoFailed(f"batch cancels refused: {failed}")
    for cid in cids:
        await table.wait(cid, ExecType.CANCELED)


async def _position(client: AsyncClient, symbol: str) -> Decimal:
    positions = await client.list_positions(symbol, venue=FUTURES_VENUE)
    return sum((p.qty for p in positions), Decimal(0))


async def _futures(
    client: AsyncClient,
    table: ReportTable,
    ids: _Orders,
    perpetual: Instrument,
    say: Callable[[str], None],
) -> None:
    """Kraken Futures on the same stream: a resting perpetual limit order (canceled), a buy
    that fills, the long position, a reduce-only close, the position flat."""
    symbol, venue, tick = perpetual.symbol, FUTURES_VENUE, perpetual.tick_size
    ticker = await client.get_ticker(symbol, venue=venue)
    if ticker.bid is None or ticker.ask is None:
        raise DemoFailed(f"{symbol} has no bid/ask")
    say(
        f"futures {symbol} ({perpetual.venue_symbol}) mark {_fmt(ticker.mark_price)} "
        f"index {_fmt(ticker.index_price)}, bid {_fmt(ticker.bid)} ask {_fmt(ticker.ask)}"
    )
    start = await _position(client, symbol)
    rest = ids.new("perp-rest")
    price = _round(ticker.bid * Decimal("0.95"), tick)
    await client.submit_order(symbol, "buy", QTY, price=price, client_order_id=rest, venue=venue)
    await table.wait(rest, ExecType.NEW)
    await client.cancel_order(rest)
    await table.wait(rest, ExecType.CANCELED)
    buy = ids.new("perp-buy")
    await client.submit_order(
        symbol, "buy", QTY, order_type="MARKET", client_order_id=buy, venue=venue
    )
    fill = await table.wait(buy, ExecType.FILL)
    held = await _position(client, symbol)
    if held != start + QTY:
        raise DemoFailed(f"{symbol} position {held} after buying {QTY} (was {start})")
    say(f"position {symbol}: {_fmt(held)} long, filled at {_fmt(fill.avg_px)}")
    close = ids.new("perp-close")
    await client.submit_order(
        symbol,
        "sell",
        QTY,
        order_type="MARKET",
        reduce_only=True,
        client_order_id=close,
        venue=venue,
    )
    await table.wait(close, ExecType.FILL)
    flat = await _position(client, symbol)
    if flat != start:
        raise DemoFailed(f"{symbol} position {flat} after the reduce-only close")
    say(f"position {symbol} after the reduce-only close: {_fmt(flat)}")


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: python -m gateway.demo HOST:PORT", file=sys.stderr)
        return 2
    token = os.environ.get("KRAKENGW_TOKEN", "krakengw-dev-token")
    return asyncio.run(run_demo(sys.argv[1], token))


if __name__ == "__main__":
    sys.exit(main())
