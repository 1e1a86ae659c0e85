"""Pure Kraken Spot wire <-> core conversions, one import point for the adapter.

Wire -> core (`parse_*`, explicit mapping tables in wire_values.py; an unknown order status,
exec_type or order type raises `KrakenParseError`):

- parse_market.py      AssetPairs -> Instrument + KrakenSymbolMap; ticker, depth, WS book/trade
- parse_orders.py      OpenOrders/ClosedOrders/QueryOrders -> VenueOrderState; TradesHistory ->
                       OrderFilled; AddOrder/batch/EditOrder results; WS acks; REST envelope
- parse_executions.py  WS v2 executions -> core VenueEvents + ExecutionReport-level fields
- parse_account.py     BalanceEx/Balance/WS balances -> Balance; TradeBalance; OpenPositions

Core -> wire: order_params.py (AddOrder form, WS add_order, batches, amends, cl_ord_id rules).

Decimals come from Kraken's strings (REST) or `Decimal`-decoded JSON numbers (WS v2, decode with
`json.loads(text, parse_float=Decimal)`). Parsed objects carry Kraken's `cl_ord_id` as
`client_order_id`; when the gateway mapped a client's id to a UUID, the adapter swaps it back
with the journaled mapping before handing the object to the core.
"""

from __future__ import annotations

from gateway.venues.kraken.common.client_ids import KrakenClOrdId
from gateway.venues.kraken.common.wire_format import encode_ws_message
from gateway.venues.kraken.common.wire_scalars import (
    KrakenParseError,
    dec,
    parse_rfc3339,
    parse_unix_time,
)
from gateway.venues.kraken.spot.order_params import (
    build_add_order_batch_params,
    build_add_order_params,
    build_amend_order_params,
    build_ws_add_order_params,
    build_ws_amend_order_params,
    build_ws_batch_add_params,
    kraken_cl_ord_id,
)
from gateway.venues.kraken.spot.parse_account import (
    KrakenSpotTradeBalance,
    parse_balance,
    parse_balance_ex,
    parse_open_position,
    parse_open_positions,
    parse_trade_balance,
    parse_ws_balances,
)
from gateway.venues.kraken.spot.parse_executions import (
    KrakenSpotExecution,
    KrakenSpotExecutionsBatch,
    parse_execution,
    parse_executions_message,
)
from gateway.venues.kraken.spot.parse_market import (
    pair_book_decimals,
    pair_names,
    parse_asset_pairs,
    parse_depth,
    parse_instrument,
    parse_ticker,
    parse_ws_book,
    parse_ws_instrument_pair,
    parse_ws_ticker,
    parse_ws_trade,
    ws_book_levels,
)
from gateway.venues.kraken.spot.parse_orders import (
    parse_add_order_result,
    parse_batch_add_result,
    parse_edit_order_result,
    parse_order_info,
    parse_orders,
    parse_rest_response,
    parse_trade_info,
    parse_trades_history,
    ws_response_error,
)
from gateway.venues.kraken.spot.wire_values import VENUE

__all__ = [
    "VENUE",
    "KrakenClOrdId",
    "KrakenParseError",
    "KrakenSpotExecution",
    "KrakenSpotExecutionsBatch",
    "KrakenSpotTradeBalance",
    "build_add_order_batch_params",
    "build_add_order_params",
    "build_amend_order_params",
    "build_ws_add_order_params",
    "build_ws_amend_order_params",
    "build_ws_batch_add_params",
    "dec",
    "encode_ws_message",
    "kraken_cl_ord_id",
    "pair_book_decimals",
    "pair_names",
    "parse_add_order_result",
    "parse_asset_pairs",
    "parse_balance",
    "parse_balance_ex",
    "parse_batch_add_result",
    "parse_depth",
    "parse_edit_order_result",
    "parse_execution",
    "parse_executions_message",
    "parse_instrument",
    "parse_open_position",
    "parse_open_positions",
    "parse_order_info",
    "parse_orders",
    "parse_rest_response",
    "parse_rfc3339",
    "parse_ticker",
    "parse_trade_balance",
    "parse_trade_info",
    "parse_trades_history",
    "parse_unix_time",
    "parse_ws_balances",
    "parse_ws_book",
    "parse_ws_instrument_pair",
    "parse_ws_ticker",
    "parse_ws_trade",
    "ws_book_levels",
    "ws_response_error",
]
