"""Typed shapes of Kraken Spot wire payloads (REST results and WS v2 messages).

Field names are Kraken's own. REST carries decimals as strings; WS v2 carries JSON numbers,
which the WS client must decode with `json.loads(..., parse_float=Decimal)` so precision
survives (`WsNumber`). Keys Kraken omits in some states are `NotRequired`. These are
descriptions for the type checker only: `parse.py` reads them defensively.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, NotRequired, TypedDict

WsNumber = Decimal | int


class KrakenSpotEnvelope(TypedDict):
    error: list[str]
    result: NotRequired[Any]


# ---- REST: orders --------------------------------------------------------------------------


class KrakenSpotAddOrderDescr(TypedDict):
    order: str
    close: NotRequired[str]


class KrakenSpotAddOrderResult(TypedDict):
    descr: KrakenSpotAddOrderDescr
    txid: NotRequired[list[str]]  # absent when validate=true


class KrakenSpotBatchOrderResult(TypedDict, total=False):
    txid: str  # a string here, not a list
    descr: KrakenSpotAddOrderDescr
    close: str
    error: str


class KrakenSpotAddOrderBatchResult(TypedDict):
    orders: list[KrakenSpotBatchOrderResult]


class KrakenSpotAmendOrderResult(TypedDict):
    amend_id: str


class KrakenSpotEditOrderResult(TypedDict, total=False):
    status: str
    txid: str
    originaltxid: str
    volume: str
    price: str
    price2: str
    orders_cancelled: int
    descr: KrakenSpotAddOrderDescr
    newuserref: int
    olduserref: int
    error_message: str


class KrakenSpotCancelOrderResult(TypedDict):
    count: int
    pending: NotRequired[bool]


class KrakenSpotCancelAllAfterResult(TypedDict):
    currentTime: str
    triggerTime: str


class KrakenSpotOrderDescr(TypedDict, total=False):
    pair: str  # altname, e.g. XBTUSD
    type: Literal["buy", "sell"]
    ordertype: str
    price: str
    price2: str
    leverage: str
    order: str
    close: str


class KrakenSpotOrderInfo(TypedDict, total=False):
    refid: str | None
    userref: int | None
    cl_ord_id: str | None
    status: str  # pending, open, closed, canceled, expired
    opentm: float
    closetm: float
    starttm: float
    expiretm: float
    descr: KrakenSpotOrderDescr
    vol: str
    vol_exec: str
    cost: str
    fee: str
    price: str  # average fill price
    stopprice: str
    limitprice: str
    trigger: str
    margin: bool
    misc: str
    oflags: str
    trades: list[str]
    sender_sub_id: str | None
    reason: str | None


class KrakenSpotOpenOrdersResult(TypedDict):
    open: dict[str, KrakenSpotOrderInfo]


class KrakenSpotClosedOrdersResult(TypedDict):
    closed: dict[str, KrakenSpotOrderInfo]
    count: NotRequired[int]


KrakenQueryOrdersResult = dict[str, KrakenSpotOrderInfo]


# ---- REST: trades, balances, positions ------------------------------------------------------


class KrakenSpotTradeInfo(TypedDict, total=False):
    ordertxid: str
    postxid: str
    pair: str  # pair id, e.g. XETHZUSD
    time: float
    type: Literal["buy", "sell"]
    ordertype: str
    price: str
    cost: str
    fee: str
    vol: str
    margin: str
    leverage: str
    misc: str
    ledgers: list[str]
    trade_id: int
    maker: bool
    posstatus: str
    cprice: str
    ccost: str
    cfee: str
    cvol: str
    cmargin: str
    net: str
    trades: list[str]


class KrakenSpotTradesHistoryResult(TypedDict):
    trades: dict[str, KrakenSpotTradeInfo]
    count: NotRequired[int]


class KrakenSpotBalanceExEntry(TypedDict):
    balance: str
    hold_trade: NotRequired[str]
    credit: NotRequired[str]
    credit_used: NotRequired[str]


KrakenBalanceExResult = dict[str, KrakenSpotBalanceExEntry]
KrakenBalanceResult = dict[str, str]


class KrakenSpotTradeBalanceResult(TypedDict, total=False):
    eb: str
    tb: str
    m: str
    n: str
    c: str
    v: str
    e: str
    mf: str
    ml: str
    uv: str


class KrakenSpotOpenPosition(TypedDict, total=False):
    ordertxid: str
    posstatus: str
    pair: str
    time: float
    type: Literal["buy", "sell"]
    ordertype: str
    cost: str
    fee: str
    vol: str
    vol_closed: str
    margin: str
    value: str
    net: str
    terms: str
    rollovertm: str
    misc: str
    oflags: str


KrakenOpenPositionsResult = dict[str, KrakenSpotOpenPosition]


class KrakenSpotConsolidatedPosition(TypedDict, total=False):
    pair: str
    positions: str
    type: Literal["buy", "sell"]
    leverage: str
    cost: str
    fee: str
    vol: str
    vol_closed: str
    margin: str
    value: str
    net: str


class KrakenSpotWebSocketsTokenResult(TypedDict):
    token: str
    expires: int


class KrakenSpotAccountTransferResult(TypedDict):
    transfer_id: str
    status: str


# ---- REST: public ---------------------------------------------------------------------------


class KrakenSpotAssetPair(TypedDict, total=False):
    altname: str
    wsname: str
    aclass_base: str
    base: str
    aclass_quote: str
    quote: str
    lot: str
    cost_decimals: int
    pair_decimals: int
    lot_decimals: int
    lot_multiplier: int
    leverage_buy: list[int]
    leverage_sell: list[int]
    fees: list[list[float]]
    fees_maker: list[list[float]]
    fee_volume_currency: str
    margin_call: int
    margin_stop: int
    ordermin: str
    costmin: str
    tick_size: str
    status: str
    long_position_limit: int
    short_position_limit: int
    execution_venue: str


KrakenAssetPairsResult = dict[str, KrakenSpotAssetPair]


class KrakenSpotTickerEntry(TypedDict, total=False):
    a: list[str]  # ask price, whole-lot volume, lot volume
    b: list[str]
    c: list[str]  # last price, lot volume
    v: list[str]  # volume today, 24h
    p: list[str]  # vwap today, 24h
    t: list[int]
    l: list[str]  # noqa: E741 - Kraken's name
    h: list[str]
    o: str


KrakenTickerResult = dict[str, KrakenSpotTickerEntry]


class KrakenSpotDepthEntry(TypedDict):
    asks: list[list[str | int]]  # [price, volume, timestamp]
    bids: list[list[str | int]]


KrakenDepthResult = dict[str, KrakenSpotDepthEntry]


# ---- WS v2 ----------------------------------------------------------------------------------


class KrakenSpotWsResponse(TypedDict):
    """Ack of a request (`subscribe`, `add_order`...)."""

    method: str
    success: NotRequired[bool]
    result: NotRequired[Any]
    error: NotRequired[str]
    time_in: NotRequired[str]
    time_out: NotRequired[str]
    req_id: NotRequired[int]


class KrakenSpotWsAddOrderResult(TypedDict):
    order_id: str
    cl_ord_id: NotRequired[str]
    order_userref: NotRequired[int]
    warnings: NotRequired[list[str]]


class KrakenSpotWsAmendOrderResult(TypedDict):
    amend_id: str
    order_id: NotRequired[str]
    cl_ord_id: NotRequired[str]
    warnings: NotRequired[list[str]]


class KrakenSpotWsFee(TypedDict):
    asset: str
    qty: WsNumber


class KrakenSpotWsTriggers(TypedDict, total=False):
    reference: Literal["index", "last"]
    price: WsNumber
    price_type: Literal["static", "pct", "quote"]
    actual_price: WsNumber
    peak_price: WsNumber
    last_price: WsNumber
    status: Literal["triggered", "untriggered"]
    timestamp: str


class KrakenSpotWsContingent(TypedDict, total=False):
    order_type: str
    trigger_price: WsNumber
    trigger_price_type: str
    limit_price: WsNumber
    limit_price_type: str


class KrakenSpotWsExecution(TypedDict, total=False):
    order_id: str
    cl_ord_id: str
    order_userref: int
    symbol: str
    side: Literal["buy", "sell"]
    order_type: str
    order_qty: WsNumber
    cash_order_qty: WsNumber
    limit_price: WsNumber
    limit_price_type: str
    display_qty: WsNumber
    display_qty_remain: WsNumber
    time_in_force: str
    post_only: bool
    reduce_only: bool
    margin: bool
    margin_borrow: bool
    no_mpp: bool
    fee_ccy_pref: str
    effective_time: str
    expire_time: str
    order_status: str
    exec_type: str
    exec_id: str
    trade_id: int
    last_qty: WsNumber
    last_price: WsNumber
    cost: WsNumber
    cum_qty: WsNumber
    cum_cost: WsNumber
    avg_price: WsNumber
    liquidity_ind: Literal["m", "t"]
    fees: list[KrakenSpotWsFee]
    fee_usd_equiv: WsNumber
    timestamp: str
    reason: str
    amended: bool
    liquidated: bool
    position_status: str
    ord_ref_id: str
    sender_sub_id: str
    ext_ord_id: str
    ext_exec_id: str
    triggers: KrakenSpotWsTriggers
    contingent: KrakenSpotWsContingent
    user: str
    # deprecated, still seen
    cancel_reason: str
    stop_price: WsNumber
    trigger: str
    triggered_price: WsNumber
    # rate counter entries (ratecounter=true; field name UNCONFIRMED in v2)
    ratecount: WsNumber
    ratecounter: WsNumber


class KrakenSpotWsExecutionsMessage(TypedDict):
    channel: Literal["executions"]
    type: Literal["snapshot", "update"]
    data: list[KrakenSpotWsExecution]
    sequence: NotRequired[int]


class KrakenSpotWsWallet(TypedDict):
    type: str
    id: str
    balance: WsNumber


class KrakenSpotWsBalanceSnapshotEntry(TypedDict):
    asset: str
    asset_class: NotRequired[str]
    balance: WsNumber
    wallets: NotRequired[list[KrakenSpotWsWallet]]


class KrakenSpotWsBalanceUpdateEntry(TypedDict, total=False):
    ledger_id: str
    ref_id: str
    timestamp: str
    type: str
    subtype: str
    category: str
    asset: str
    asset_class: str
    wallet_type: str
    wallet_id: str
    amount: WsNumber
    fee: WsNumber
    balance: WsNumber
    user: str


class KrakenSpotWsBalancesMessage(TypedDict):
    channel: Literal["balances"]
    type: Literal["snapshot", "update"]
    data: list[Any]  # snapshot entries or update entries (see the two TypedDicts above)
    sequence: NotRequired[int]


class KrakenSpotWsBookLevel(TypedDict):
    price: WsNumber
    qty: WsNumber


class KrakenSpotWsBookData(TypedDict):
    symbol: str
    bids: list[KrakenSpotWsBookLevel]
    asks: list[KrakenSpotWsBookLevel]
    checksum: int
    timestamp: NotRequired[str]


class KrakenSpotWsBookMessage(TypedDict):
    channel: Literal["book"]
    type: Literal["snapshot", "update"]
    data: list[KrakenSpotWsBookData]


class KrakenSpotWsTickerData(TypedDict, total=False):
    symbol: str
    bid: WsNumber
    bid_qty: WsNumber
    ask: WsNumber
    ask_qty: WsNumber
    last: WsNumber
    volume: WsNumber
    vwap: WsNumber
    low: WsNumber
    high: WsNumber
    change: WsNumber
    change_pct: WsNumber
    timestamp: str


class KrakenSpotWsTickerMessage(TypedDict):
    channel: Literal["ticker"]
    type: Literal["snapshot", "update"]
    data: list[KrakenSpotWsTickerData]


class KrakenSpotWsInstrumentPair(TypedDict, total=False):
    symbol: str
    base: str
    quote: str
    status: str
    qty_precision: int
    qty_increment: WsNumber
    price_precision: int
    price_increment: WsNumber
    cost_precision: int
    cost_min: WsNumber
    qty_min: WsNumber
    marginable: bool
    has_index: bool
    tick_size: WsNumber  # deprecated: price_increment


class KrakenSpotWsTradeData(TypedDict):
    symbol: str
    side: Literal["buy", "sell"]
    price: WsNumber
    qty: WsNumber
    ord_type: str
    trade_id: int
    timestamp: str


class KrakenSpotWsTradeMessage(TypedDict):
    channel: Literal["trade"]
    type: Literal["snapshot", "update"]
    data: list[KrakenSpotWsTradeData]
