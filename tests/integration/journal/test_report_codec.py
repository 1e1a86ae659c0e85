"""Reports survive the journal exactly: the positional layout, the batch insert through SQLite's
JSON functions (awkward text included), and journals written in the older object form."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from gateway.core.errors import ErrorReason
from gateway.core.model import (
    ExecType,
    ExecutionReport,
    Fee,
    Liquidity,
    OrderType,
    OrdStatus,
    RejectInfo,
    Side,
    TimeInForce,
)
from gateway.journal import SqliteJournal, codec

from .conftest import report, take


def _full(n: int, text: str = "") -> ExecutionReport:
    """A report with every optional field set, each to a distinct value."""
    return ExecutionReport(
        session_id="s1",
        account="a1",
        exec_id=f"full-{n}",
        exec_type=ExecType.PARTIAL_FILL,
        ord_status=OrdStatus.PARTIALLY_FILLED,
        client_order_id=f"c{n}",
        orig_client_order_id=f"o{n}",
        venue_order_id=f"V{n}",
        venue="kraken",
        symbol="BTC/USD:USD",
        side=Side.SELL,
        order_type=OrderType.TRAILING_STOP_LIMIT,
        time_in_force=TimeInForce.GTD,
        order_qty=Decimal("1E+2"),
        price=Decimal("40000.10"),
        stop_price=Decimal("1E-8"),
        cum_qty=Decimal("0.0010"),
        leaves_qty=Decimal("99.999"),
        avg_px=Decimal("-0"),
        last_qty=Decimal("0.001"),
        last_px=Decimal("40000.1"),
        trade_id=f"T{n}",
        fee=Fee(asset="USD", amount=Decimal("0.06400000")),
        liquidity=Liquidity.TAKER,
        reject=RejectInfo(reason=ErrorReason.INVALID_FIELD, text="no", venue_text="EGeneral"),
        text=text,
        venue_time=datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
        gateway_time=datetime(2026, 1, 2, 5, 4, 5, 6, tzinfo=timezone(timedelta(hours=2))),
    )


def test_newest_layout_covers_every_field() -> None:
    layout = codec.REPORT_LAYOUTS[codec.REPORT_LAYOUT]
    assert list(layout) == [f.name for f in dataclasses.fields(ExecutionReport)]


def test_positional_and_object_forms_decode_to_the_same_report() -> None:
    for original in (_full(1, "x"), report(2)):
        stamped = dataclasses.replace(original, sequence=5, account_sequence=9)
        assert codec.decode_report(codec.encode_report(stamped)) == stamped
        assert codec.decode_report(codec.encode(stamped)) == stamped
        resent = codec.decode_report(codec.encode_report(stamped), poss_resend=True)
        assert resent == dataclasses.replace(stamped, poss_resend=True)


def test_a_row_with_an_unknown_enum_value_is_refused() -> None:
    row = codec.report_row(_full(3))
    decoded = codec.decode_report(codec.encode_report(_full(3)))
    assert decoded.exec_type is ExecType.PARTIAL_FILL and decoded.liquidity is Liquidity.TAKER
    row[6] = "NOT_AN_EXEC_TYPE"  # exec_type
    with pytest.raises(ValueError):
        codec.decode_report(orjson.dumps(row))


def _awkward(rng: random.Random) -> str:
    alphabet = [chr(c) for c in range(0x80)] + ["\u00e9", "\u2028", "\ufeff", "\U0001f600", '"']
    alphabet += ["\\", "\\u0041", "\U0010ffff"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


async def test_batch_insert_keeps_every_report_exact(tmp_path: Path) -> None:
    rng = random.Random(11)
    originals = [_full(n, _awkward(rng)) for n in range(400)]
    journal = await SqliteJournal.open(tmp_path)
    try:
        sub = journal.subscribe("s1", 0)
        await journal.append(originals[:150])
        await journal.append(originals[150:])
        live = await take(sub, len(originals))
        sub.close()
        replayed = await journal.reports("s1", 0, 1000)
    finally:
        await journal.close()
    assert [r.sequence for r in replayed] == list(range(1, 401))
    assert replayed == live
    for got, original in zip(replayed, originals, strict=True):
        assert got == dataclasses.replace(
            original, sequence=got.sequence, account_sequence=got.account_sequence
        )
    # Each stored payload is the row orjson wrote, byte for byte.
    with sqlite3.connect(tmp_path / SqliteJournal.FILENAME) as conn:
        payloads = conn.execute("SELECT payload FROM reports ORDER BY seq").fetchall()
    assert [p for (p,) in payloads] == [codec.encode_report(r) for r in replayed]


async def test_reports_stored_in_the_object_form_still_replay_and_dedupe(tmp_path: Path) -> None:
    """A journal written before positional layouts: its rows hold JSON objects."""
    journal = await SqliteJournal.open(tmp_path)
    await journal.append([report(1), report(2)])
    await journal.close()
    with sqlite3.connect(tmp_path / SqliteJournal.FILENAME) as conn:
        rows = conn.execute("SELECT gseq, payload FROM reports").fetchall()
        for gseq, payload in rows:
            old = codec.encode(codec.decode_report(payload))
            conn.execute("UPDATE reports SET payload = ? WHERE gseq = ?", (old, gseq))
    journal = await SqliteJournal.open(tmp_path)
    try:
        again = await journal.append([report(2), report(3)])
        assert [(r.report.sequence, r.is_new) for r in again] == [(2, False), (3, True)]
        replayed = await journal.reports("s1", 0, 10)
        assert [r.exec_id for r in replayed] == ["s1-1", "s1-2", "s1-3"]
        assert [r.sequence for r in replayed] == [1, 2, 3]
        assert replayed[0] == dataclasses.replace(report(1), sequence=1, account_sequence=1)
    finally:
        await journal.close()
