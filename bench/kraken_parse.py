"""Kraken Spot parse throughput: WS v2 executions and book messages, against json.loads alone.

In one run, over the same pre-encoded messages:

* baseline   `json.loads(text)` (floats; what any client pays at least)
* decimal    `json.loads(text, parse_float=Decimal)` (what the gateway must pay for exactness)
* executions decimal decode + `parse_executions_message` (core events and report fields)
* book       decimal decode + `KrakenL2Book.apply` with the CRC32 checksum verified

Timing is per batch of messages (per-message cost = batch time / batch size); it prints the
median and p99 per message, messages/s, and each ratio against the baseline.

    .venv/bin/python -m bench.kraken_parse [--batches 200] [--batch-size 100]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from gateway.venues.kraken.common.l2_book import KrakenL2Book
from gateway.venues.kraken.spot.parse import parse_executions_message


def executions_messages(n: int, rng: random.Random) -> list[str]:
    """A realistic mix: pending_new (full record), new, trade, filled, canceled."""
    out: list[str] = []
    seq = 0
    while len(out) < n:
        oid = f"O{rng.randrange(16**5):05X}-{rng.randrange(16**5):05X}-{rng.randrange(16**6):06X}"
        price = round(60000 + rng.uniform(-500, 500), 1)
        qty = round(rng.uniform(0.001, 0.5), 8)
        ts = "2026-05-05T10:00:00.123456Z"
        full = {
            "order_id": oid, "cl_ord_id": f"c-{seq}", "symbol": "BTC/USD", "side": "buy",
            "order_type": "limit", "order_qty": qty, "limit_price": price,
            "time_in_force": "GTC", "order_status": "pending_new", "exec_type": "pending_new",
            "cum_qty": 0, "cum_cost": 0.0, "fee_usd_equiv": 0.0, "fee_ccy_pref": "fciq",
            "limit_price_type": "static", "timestamp": ts, "order_userref": 0,
        }  # fmt: skip
        trade = {
            "order_id": oid, "exec_id": f"T{seq:05d}-AAAAA-BBBBBB", "exec_type": "trade",
            "trade_id": seq, "symbol": "BTC/USD", "side": "buy", "last_qty": qty,
            "last_price": price, "liquidity_ind": "m", "cost": round(qty * price, 5),
            "order_type": "limit", "timestamp": ts, "order_status": "partially_filled",
            "cum_qty": qty, "cum_cost": round(qty * price, 5), "avg_price": price,
            "fee_usd_equiv": 0.1, "fees": [{"asset": "USD", "qty": 0.1}],
        }  # fmt: skip
        ends = {"order_id": oid, "timestamp": ts}
        last = (
            ends | {"exec_type": "filled", "order_status": "filled"}
            if rng.random() < 0.5
            else ends | {"exec_type": "canceled", "order_status": "canceled", "reason": "User"}
        )
        new = ends | {"exec_type": "new", "order_status": "new"}
        for entry in (full, new, trade, last):
            seq += 1
            msg = {"channel": "executions", "type": "update", "data": [entry], "sequence": seq}
            out.append(json.dumps(msg))
    return out[:n]


def book_messages(n: int, rng: random.Random) -> tuple[str, list[str]]:
    """A depth-10 snapshot and `n` updates, each with the checksum of the resulting book."""
    book = KrakenL2Book("BTC/USD", 10, price_decimals=1, qty_decimals=8)
    asks = [(Decimal(60000) + Decimal(i) / 10, Decimal("0.5")) for i in range(1, 11)]
    bids = [(Decimal(60000) - Decimal(i) / 10, Decimal("0.5")) for i in range(10)]
    book.apply(asks, bids, snapshot=True, checksum=None)

    def level(p: Decimal, q: Decimal) -> dict[str, float]:
        return {"price": float(p), "qty": float(q)}

    snap = {"channel": "book", "type": "snapshot", "data": [{
        "symbol": "BTC/USD", "asks": [level(p, q) for p, q in asks],
        "bids": [level(p, q) for p, q in bids], "checksum": book.checksum()}]}  # fmt: skip
    updates: list[str] = []
    for _ in range(n):
        side = rng.choice(("asks", "bids"))
        top = (book.asks() if side == "asks" else book.bids())[: rng.randint(1, 10)]
        price = rng.choice(top)[0] if top else Decimal(60000)
        qty = Decimal(0) if rng.random() < 0.2 else Decimal(rng.randrange(1, 10**8)) / 10**8
        change = [(price, qty)]
        book.apply(change if side == "asks" else [], change if side == "bids" else [],
                   snapshot=False, checksum=None)  # fmt: skip
        data = {"symbol": "BTC/USD", "asks": [], "bids": [], "checksum": book.checksum()}
        data[side] = [level(price, qty)]
        updates.append(json.dumps({"channel": "book", "type": "update", "data": [data]}))
    return json.dumps(snap), updates


def measure(
    name: str, messages: list[str], work: Callable[[str], Any], batch_size: int
) -> list[float]:
    """Per-message seconds for each batch."""
    per_message: list[float] = []
    for start in range(0, len(messages) - batch_size + 1, batch_size):
        batch = messages[start : start + batch_size]
        t0 = time.perf_counter()
        for text in batch:
            work(text)
        per_message.append((time.perf_counter() - t0) / batch_size)
    return per_message


def report(name: str, samples: list[float], baseline: list[float]) -> None:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    ratio = p50 / statistics.median(baseline)
    print(
        f"{name:11} p50={p50 * 1e6:8.2f} us/msg  p99={p99 * 1e6:8.2f} us/msg  "
        f"{1 / p50:10.0f} msg/s  x{ratio:5.2f} vs json.loads"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(7)
    n = args.batches * args.batch_size
    execs = executions_messages(n, rng)
    snapshot, updates = book_messages(n, rng)

    def decode(text: str) -> Any:
        return json.loads(text, parse_float=Decimal)

    def parse_exec(text: str) -> None:
        parse_executions_message(decode(text))

    book = KrakenL2Book("BTC/USD", 10, price_decimals=1, qty_decimals=8)

    def apply_book(text: str) -> None:
        msg = decode(text)
        for data in msg["data"]:
            book.apply(
                [(d["price"], d["qty"]) for d in data["asks"]],
                [(d["price"], d["qty"]) for d in data["bids"]],
                snapshot=msg["type"] == "snapshot",
                checksum=data["checksum"],
            )

    print(f"kraken parse bench: {n} executions messages, {n} book updates (checksum verified)")
    for label, corpus, work in (
        ("executions", execs, parse_exec),
        ("book", updates, apply_book),
    ):
        if label == "book":
            apply_book(snapshot)
        baseline = measure("json.loads", corpus, json.loads, args.batch_size)
        decimal = measure("decimal", corpus, decode, args.batch_size)
        full = measure(label, corpus, work, args.batch_size)
        print(f"-- {label}")
        report("json.loads", baseline, baseline)
        report("decimal", decimal, baseline)
        report(label, full, baseline)


if __name__ == "__main__":
    main()
