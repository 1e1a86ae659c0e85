"""Kraken Futures account payloads -> core Balances and Positions.

Balances: one row per currency and wallet; wallets are named `futures:<kraken wallet>`:
`futures:cash` (the cash account), `futures:flex` (multi-collateral margin), `futures:fi_xbtusd`
(single-collateral margin of inverse contracts), so they never mix with Spot's `spot` wallet.
Positions: `size` is unsigned with `side: long|short` in REST, `balance` is signed in WS.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from gateway.core.model import Balance, Position
from gateway.venues.kraken.common.symbols import unified_asset
from gateway.venues.kraken.common.wire_scalars import dec, opt_dec
from gateway.venues.kraken.futures.parse_instruments import KrakenFuturesSymbols
from gateway.venues.kraken.futures.wire_values import POSITION_SIDES, VENUE, exact

WALLET_PREFIX = "futures:"
ZERO = Decimal(0)


def _asset(code: str) -> str:
    return unified_asset(code.upper())


def _wallet_rows(name: str, wallet: Mapping[str, Any]) -> list[Balance]:
    kind = wallet.get("type")
    label = WALLET_PREFIX + name
    if kind == "multiCollateralMarginAccount":
        rows = []
        for code, cur in (wallet.get("currencies") or {}).items():
            total = dec(cur.get("quantity", 0), "quantity")
            available = dec(cur.get("available", total), "available")
            rows.append(
                Balance(
                    asset=_asset(code),
                    wallet=label,
                    total=total,
                    available=available,
                    held=max(ZERO, total - available),
                )
            )
        return rows
    balances = wallet.get("balances") or {}
    if kind == "marginAccount":
        aux = wallet.get("auxiliary") or {}
        rows = []
        for code, amount in balances.items():
            total = dec(amount, "balance")
            available = min(total, dec(aux.get("af", total), "af"))
            rows.append(
                Balance(
                    asset=_asset(code),
                    wallet=label,
                    total=total,
                    available=available,
                    held=max(ZERO, total - available),
                )
            )
        return rows
    # cashAccount (and any wallet that only lists balances)
    return [
        Balance(asset=_asset(code), wallet=label, total=dec(v, code), available=dec(v, code))
        for code, v in balances.items()
    ]


def parse_accounts(payload: Mapping[str, Any]) -> list[Balance]:
    """`GET accounts` -> one Balance per currency per wallet (wallets in Kraken's order)."""
    out: list[Balance] = []
    for name, wallet in (payload.get("accounts") or {}).items():
        if isinstance(wallet, Mapping):
            out.extend(_wallet_rows(str(name), wallet))
    return out


def parse_open_positions(
    payload: Mapping[str, Any], symbols: KrakenFuturesSymbols
) -> list[Position]:
    """`GET openpositions` -> signed positions (contracts)."""
    out = []
    for row in payload.get("openPositions") or []:
        sign = exact(POSITION_SIDES, row.get("side"), "position side")
        out.append(
            Position(
                venue=VENUE,
                symbol=symbols.unified(str(row["symbol"])),
                qty=sign * dec(row["size"], "size"),
                entry_price=opt_dec(row.get("price"), "price"),
            )
        )
    return out


def parse_ws_positions(msg: Mapping[str, Any], symbols: KrakenFuturesSymbols) -> list[Position]:
    """A WS `open_positions` message (snapshot and updates share one shape)."""
    out = []
    for row in msg.get("positions") or []:
        out.append(
            Position(
                venue=VENUE,
                symbol=symbols.unified(str(row["instrument"])),
                qty=dec(row["balance"], "balance"),
                entry_price=opt_dec(row.get("entry_price"), "entry_price"),
                mark_price=opt_dec(row.get("mark_price"), "mark_price"),
                unrealized_pnl=opt_dec(row.get("pnl"), "pnl"),
                liquidation_price=opt_dec(
                    row.get("liquidation_threshold"), "liquidation_threshold"
                ),
                leverage=opt_dec(row.get("effective_leverage"), "effective_leverage"),
                margin=opt_dec(row.get("initial_margin"), "initial_margin"),
            )
        )
    return out


def _ws_inverse_wallet(name: str) -> str:
    """WS `F-XBT:USD` -> the REST wallet name `fi_xbtusd`."""
    pair = name.upper().removeprefix("F-").replace(":", "")
    return "fi_" + pair.lower()


def parse_ws_balances(msg: Mapping[str, Any]) -> list[Balance]:
    """A WS `balances_snapshot` / `balances` message -> the balances it carries, named like
    `parse_accounts` names them (`futures:cash`, `futures:flex`, `futures:fi_xbtusd`)."""
    out: list[Balance] = []
    for code, qty in (msg.get("holding") or {}).items():
        amount = dec(qty, "holding")
        out.append(
            Balance(
                asset=_asset(code), wallet=WALLET_PREFIX + "cash", total=amount, available=amount
            )
        )
    for name, wallet in (msg.get("futures") or {}).items():
        unit = str(wallet.get("unit") or name.upper().removeprefix("F-").partition(":")[0])
        total = dec(wallet.get("balance", 0), "balance")
        available = min(total, dec(wallet.get("available", total), "available"))
        out.append(
            Balance(
                asset=_asset(unit),
                wallet=WALLET_PREFIX + _ws_inverse_wallet(str(name)),
                total=total,
                available=available,
                held=max(ZERO, total - available),
            )
        )
    flex = msg.get("flex_futures") or {}
    for code, cur in (flex.get("currencies") or {}).items():
        total = dec(cur.get("quantity", 0), "quantity")
        available = dec(cur.get("available", total), "available")
        out.append(
            Balance(
                asset=_asset(code),
                wallet=WALLET_PREFIX + "flex",
                total=total,
                available=available,
                held=max(ZERO, total - available),
            )
        )
    return out
