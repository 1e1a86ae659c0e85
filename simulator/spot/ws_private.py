"""Private WS v2 channels: `executions` and `balances` (wire 6.4).

Each (connection, channel) numbers its messages with `sequence` 1, 2, ... starting at the
snapshot. Events are queued per account during an engine call and published by `flush()`, after
the request's own ack, which is the order Kraken's clients see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from simulator.engine.events import EngineEvent, ExecutionEvent, LedgerEvent
from simulator.engine.model import Fill, OrderStatus
from simulator.engine.pairs import KrakenAsset, KrakenPair
from simulator.spot.ws_engine import SpotEngineLike
from simulator.spot.ws_market import timestamp
from simulator.spot.ws_public import ALREADY_SUBSCRIBED, NOT_SUBSCRIBED, SubscribeError, flag
from simulator.spot.ws_reports import (
    ESSENTIAL_EXEC_TYPES,
    balance_snapshot_row,
    balance_update,
    execution_report,
    order_record,
)
from simulator.spot.ws_wire import push
from simulator.wire.json_codec import JsonObject, encode
from simulator.wire.ws_connection import Subscription, WsConnection

PRIVATE_CHANNELS = frozenset({"executions", "balances"})
SNAP_TRADES = 50

# (account, pair id) -> the trading counter's current value, and the account's maximum.
RateCount = Callable[[str, str], float]
MaxRateCount = Callable[[str], float]


def fill_record(fill: Fill, pair: KrakenPair, fee_asset: str) -> JsonObject:
    """A past fill in the `snap_trades` part of the snapshot."""
    record: JsonObject = {
        "order_id": fill.order_txid,
        "order_userref": fill.userref or 0,
        "exec_id": fill.txid,
        "exec_type": "trade",
        "trade_id": fill.trade_id,
        "symbol": pair.ws_symbol,
        "side": fill.side.value,
        "order_type": fill.ordertype.value,
        "last_qty": fill.volume,
        "last_price": fill.price,
        "liquidity_ind": "m" if fill.maker else "t",
        "cost": fill.cost,
        "timestamp": timestamp(fill.time),
        "fees": [{"asset": fee_asset, "qty": fill.fee}],
        "fee_usd_equiv": fill.fee if fee_asset == "USD" else Decimal(0),
    }
    if fill.cl_ord_id is not None:
        record["cl_ord_id"] = fill.cl_ord_id
    return record


class PrivateFeeds:
    """Subscriptions and publication of the private channels."""

    def __init__(
        self,
        engine: Callable[[], SpotEngineLike],
        pairs_by_id: dict[str, KrakenPair],
        assets: dict[str, KrakenAsset],
        ratecount: RateCount,
        maxratecount: MaxRateCount,
    ) -> None:
        self._engine = engine
        self.pairs_by_id = pairs_by_id
        self.assets = assets
        self._ratecount = ratecount
        self._maxratecount = maxratecount
        # account -> connection -> subscription, per channel
        self._executions: dict[str, dict[WsConnection, Subscription]] = {}
        self._balances: dict[str, dict[WsConnection, Subscription]] = {}
        self._pending: list[ExecutionEvent | LedgerEvent] = []

    def _asset_name(self, asset_id: str) -> str:
        asset = self.assets.get(asset_id)
        return asset.ws_name if asset else asset_id

    # -- subscriptions -------------------------------------------------------------------

    def subscribe(
        self,
        conn: WsConnection,
        account_id: str,
        token: str,
        channel: str,
        params: dict[str, Any],
    ) -> tuple[JsonObject, list[str]]:
        if (channel,) in conn.subscriptions:
            raise SubscribeError(ALREADY_SUBSCRIBED)
        if channel == "executions":
            snap_orders = flag(params, "snap_orders", flag(params, "snapshot", True))
            snap_trades = flag(params, "snap_trades", flag(params, "snapshot_trades", False))
            result: JsonObject = {"channel": "executions"}
            settings = {
                "snap_orders": snap_orders,
                "snap_trades": snap_trades,
                "order_status": flag(params, "order_status", True),
                "ratecounter": flag(params, "ratecounter", False),
            }
            if settings["ratecounter"]:
                result["maxratecount"] = int(self._maxratecount(account_id))
            result.update(snap_orders=snap_orders, snap_trades=snap_trades)
            audience = self._executions
        else:
            settings = {"snapshot": flag(params, "snapshot", True)}
            result = {"channel": "balances", "snapshot": settings["snapshot"]}
            audience = self._balances
        sub = Subscription(channel, None, settings, token=token)
        conn.subscriptions[(channel,)] = sub
        audience.setdefault(account_id, {})[conn] = sub
        frame = self._snapshot(account_id, sub)
        return result, [frame] if frame is not None else []

    def unsubscribe(self, conn: WsConnection, channel: str) -> tuple[JsonObject, str | None]:
        """Ack result and the token the subscription held (to release)."""
        sub = conn.subscriptions.pop((channel,), None)
        if sub is None:
            raise SubscribeError(NOT_SUBSCRIBED)
        audience = self._executions if channel == "executions" else self._balances
        for members in audience.values():
            members.pop(conn, None)
        return {"channel": channel}, sub.token

    def forget(self, conn: WsConnection) -> list[str]:
        """Drop a closed connection; the tokens its subscriptions held."""
        tokens: list[str] = []
        for audience in (self._executions, self._balances):
            for members in audience.values():
                sub = members.pop(conn, None)
                if sub is not None and sub.token is not None:
                    tokens.append(sub.token)
        return tokens

    # -- snapshots -----------------------------------------------------------------------

    def _snapshot(self, account_id: str, sub: Subscription) -> str | None:
        engine = self._engine()
        if sub.channel == "balances":
            if not sub.params["snapshot"]:
                return None
            balances = engine.balances(account_id)
            data = [balance_snapshot_row(self._asset_name(a), v) for a, v in balances.items()]
            return encode(push("balances", "snapshot", data, sequence=sub.next_sequence()))
        rows: list[JsonObject] = []
        if sub.params["snap_orders"]:
            for order in engine.open_orders(account_id):
                pair = self.pairs_by_id[order.pair]
                kind = "pending_new" if order.status is OrderStatus.PENDING else "new"
                rows.append(order_record(order, pair, kind, order.last_modified or order.opentm))
        if sub.params["snap_trades"]:
            newest_first = engine.trades_history(account_id).items[:SNAP_TRADES]
            for fill in reversed(newest_first):
                pair = self.pairs_by_id[fill.pair]
                rows.append(fill_record(fill, pair, self._asset_name(fill.fee_asset)))
        if not sub.params["snap_orders"] and not sub.params["snap_trades"]:
            return None
        return encode(push("executions", "snapshot", rows, sequence=sub.next_sequence()))

    # -- engine events -------------------------------------------------------------------

    def on_event(self, event: EngineEvent) -> bool:
        if isinstance(event, ExecutionEvent) and event.account_id in self._executions:
            self._pending.append(event)
            return True
        if isinstance(event, LedgerEvent) and event.account_id in self._balances:
            self._pending.append(event)
            return True
        return False

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        for event in pending:
            if isinstance(event, ExecutionEvent):
                self._publish_execution(event)
            else:
                self._publish_balance(event)

    def _publish_execution(self, event: ExecutionEvent) -> None:
        members = self._executions.get(event.account_id)
        pair = self.pairs_by_id.get(event.order.pair)
        if not members or pair is None:
            return
        report = execution_report(event, pair, self.assets)
        essential = event.exec_type in ESSENTIAL_EXEC_TYPES
        for conn, sub in list(members.items()):
            if not essential and not sub.params["order_status"]:
                continue
            data = report
            if sub.params["ratecounter"]:
                count = self._ratecount(event.account_id, event.order.pair)
                data = {**report, "ratecount": round(count)}
            message = push("executions", "update", [data], sequence=sub.next_sequence())
            conn.deliver("ws:executions", encode(message))

    def _publish_balance(self, event: LedgerEvent) -> None:
        members = self._balances.get(event.account_id)
        if not members:
            return
        row = balance_update(event, self.assets.get(event.entry.asset))
        for conn, sub in list(members.items()):
            message = push("balances", "update", [row], sequence=sub.next_sequence())
            conn.deliver("ws:balances", encode(message))

    def accounts_followed(self) -> Iterable[str]:
        return self._executions.keys()
