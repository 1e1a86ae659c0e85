"""Balances (BalanceEx, Balance, WS balances), TradeBalance and spot margin positions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.core.model import (
    Balance,
    Position,
    Side,
)
from gateway.venues.kraken.common.symbols import (
    KrakenSymbolMap,
    unified_asset,
)
from gateway.venues.kraken.common.wire_scalars import dec
from gateway.venues.kraken.spot.schemas import (
    KrakenBalanceExResult,
    KrakenSpotOpenPosition,
    KrakenSpotTradeBalanceResult,
)
from gateway.venues.kraken.spot.wire_values import SIDES, VENUE, lookup

# ---- balances -------------------------------------------------------------------------------


def parse_balance_ex(result: KrakenBalanceExResult) -> list[Balance]:
    """available = balance + credit - credit_used - hold_trade (wire 3.6)."""
    balances: list[Balance] = []
    for asset, entry in result.items():
        total = dec(entry.get("balance", "0"), "balance")
        held = dec(entry.get("hold_trade", "0"), "hold_trade")
        credit = dec(entry.get("credit", "0"), "credit") - dec(
            entry.get("credit_used", "0"), "credit_used"
        )
        balances.append(
            Balance(
                asset=unified_asset(asset),
                wallet="spot",
                total=total,
                available=total + credit - held,
                held=held,
            )
        )
    return balances


def parse_balance(result: Mapping[str, str]) -> list[Balance]:
    """Plain `Balance` (no holds known)."""
    return [
        Balance(asset=unified_asset(a), total=dec(v, a), available=dec(v, a))
        for a, v in result.items()
    ]


def _wallet_name(wallet_type: str, wallet_id: str) -> str:
    return wallet_type if wallet_id in ("", "main") else f"{wallet_type}:{wallet_id}"


def parse_ws_balances(msg: Mapping[str, Any]) -> list[Balance]:
    """A `balances` channel message. Snapshot: one Balance per wallet (or per asset without
    wallets). Update: the post-transaction balance of the touched wallet. The channel carries
    no holds, so available = total here; BalanceEx has the holds."""
    out: list[Balance] = []
    for entry in msg.get("data", ()):
        asset = unified_asset(str(entry.get("asset", "")))
        if msg.get("type") == "snapshot":
            wallets = entry.get("wallets") or [
                {"type": "spot", "id": "main", "balance": entry.get("balance")}
            ]
            for w in wallets:
                total = dec(w.get("balance"), "balance")
                name = _wallet_name(str(w.get("type", "spot")), str(w.get("id", "main")))
                out.append(Balance(asset=asset, wallet=name, total=total, available=total))
        else:
            total = dec(entry.get("balance"), "balance")
            name = _wallet_name(
                str(entry.get("wallet_type", "spot")), str(entry.get("wallet_id", "main"))
            )
            out.append(Balance(asset=asset, wallet=name, total=total, available=total))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class KrakenSpotTradeBalance:
    """TradeBalance in words (all in the requested asset, default USD)."""

    equivalent_balance: Decimal
    trade_balance: Decimal
    margin: Decimal
    unrealized_pnl: Decimal
    cost_basis: Decimal
    valuation: Decimal
    equity: Decimal
    free_margin: Decimal
    margin_level: Decimal | None
    unexecuted_value: Decimal


def parse_trade_balance(result: KrakenSpotTradeBalanceResult) -> KrakenSpotTradeBalance:
    def get(key: str) -> Decimal:
        return dec(result.get(key, "0"), key)

    ml = result.get("ml")
    return KrakenSpotTradeBalance(
        equivalent_balance=get("eb"),
        trade_balance=get("tb"),
        margin=get("m"),
        unrealized_pnl=get("n"),
        cost_basis=get("c"),
        valuation=get("v"),
        equity=get("e"),
        free_margin=get("mf"),
        margin_level=None if ml is None else dec(ml, "ml"),
        unexecuted_value=get("uv"),
    )


def parse_open_position(position: KrakenSpotOpenPosition, symbols: KrakenSymbolMap) -> Position:
    """One spot margin position (unconsolidated or consolidated shape): signed open volume."""
    vol = dec(position.get("vol", "0"), "vol") - dec(position.get("vol_closed", "0"), "vol_closed")
    side = lookup(SIDES, position.get("type"), "side")
    cost = dec(position.get("cost", "0"), "cost")
    total_vol = dec(position.get("vol", "0"), "vol")
    net = position.get("net")
    margin = position.get("margin")
    return Position(
        venue=VENUE,
        symbol=symbols.unified(position.get("pair", "")),
        qty=vol if side is Side.BUY else -vol,
        entry_price=cost / total_vol if total_vol else None,
        unrealized_pnl=None if net is None else dec(net, "net"),
        margin=None if margin is None else dec(margin, "margin"),
    )


def parse_open_positions(
    result: Mapping[str, KrakenSpotOpenPosition] | list[KrakenSpotOpenPosition],
    symbols: KrakenSymbolMap,
) -> list[Position]:
    """OpenPositions: a map by position id, or an array with `consolidation=market`."""
    items = result.values() if isinstance(result, Mapping) else result
    return [parse_open_position(p, symbols) for p in items]
