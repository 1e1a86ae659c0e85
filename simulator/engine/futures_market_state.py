"""Per-contract market state of the futures engine: the book, public statistics, triggers."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from simulator.engine.book import OrderBook
from simulator.engine.futures_events import KrakenFuturesTradeEvent
from simulator.engine.futures_instruments import KrakenFuturesInstrument
from simulator.engine.futures_orders import KrakenFuturesOrder
from simulator.engine.model import Side

ZERO = Decimal(0)
RECENT_TRADES = 100
RECENT_EXECUTIONS = 1000


def crosses(side: Side, book_price: Decimal, limit: Decimal | None) -> bool:
    """Whether an order on `side` with `limit` (None = no limit) trades at `book_price`."""
    if limit is None:
        return True
    return book_price <= limit if side is Side.BUY else book_price >= limit


@dataclass(frozen=True, slots=True)
class KrakenPublicExecution:
    """One execution as the public history API shows it (`market/{symbol}/executions`).

    The order snapshots are taken just before the execution, so their quantity is what was
    still open then; `limit_filled` says whether the maker order was used up.
    """

    uid: str
    time_ms: int
    price: Decimal
    qty: Decimal
    mark: Decimal
    usd_value: Decimal
    maker: KrakenFuturesOrder
    taker: KrakenFuturesOrder
    limit_filled: bool


@dataclass(frozen=True, slots=True)
class KrakenFuturesTicker:
    symbol: str
    last: Decimal | None
    last_time_ms: int | None
    last_size: Decimal | None
    mark: Decimal
    index: Decimal
    bid: Decimal | None
    bid_size: Decimal | None
    ask: Decimal | None
    ask_size: Decimal | None
    vol24h: Decimal
    volume_quote: Decimal
    open_interest: Decimal
    open24h: Decimal
    high24h: Decimal
    low24h: Decimal


@dataclass
class KrakenFuturesMarketState:
    inst: KrakenFuturesInstrument
    book: OrderBook[KrakenFuturesOrder] = field(default_factory=OrderBook)
    book_seq: int = 0  # last book event number of this product (WS `seq`)
    trade_seq: int = 0
    last: Decimal | None = None
    last_time_ms: int | None = None
    last_size: Decimal | None = None
    volume: Decimal = ZERO  # since start (the simulator's "24h")
    volume_quote: Decimal = ZERO
    open24h: Decimal = ZERO
    high: Decimal = ZERO
    low: Decimal = ZERO
    triggers: dict[str, KrakenFuturesOrder] = field(default_factory=dict)  # waiting to fire
    maker_quotes: dict[tuple[Side, Decimal], KrakenFuturesOrder] = field(default_factory=dict)
    trades: deque[KrakenFuturesTradeEvent] = field(
        default_factory=lambda: deque(maxlen=RECENT_TRADES)
    )
    executions: deque[KrakenPublicExecution] = field(
        default_factory=lambda: deque(maxlen=RECENT_EXECUTIONS)
    )

    def __post_init__(self) -> None:
        self.open24h = self.high = self.low = self.inst.reference_price

    def record_trade(self, trade: KrakenFuturesTradeEvent) -> None:
        self.trades.append(trade)
        self.last, self.last_time_ms, self.last_size = trade.price, trade.time_ms, trade.qty
        self.volume += trade.qty
        self.volume_quote += trade.qty * trade.price
        self.high, self.low = max(self.high, trade.price), min(self.low, trade.price)

    def ticker(self, mark: Decimal, index: Decimal, open_interest: Decimal) -> KrakenFuturesTicker:
        bids = self.book.levels(Side.BUY, 1)
        asks = self.book.levels(Side.SELL, 1)
        return KrakenFuturesTicker(
            symbol=self.inst.symbol,
            last=self.last,
            last_time_ms=self.last_time_ms,
            last_size=self.last_size,
            mark=mark,
            index=index,
            bid=bids[0][0] if bids else None,
            bid_size=bids[0][1] if bids else None,
            ask=asks[0][0] if asks else None,
            ask_size=asks[0][1] if asks else None,
            vol24h=self.volume,
            volume_quote=self.volume_quote,
            open_interest=open_interest,
            open24h=self.open24h,
            high24h=self.high,
            low24h=self.low,
        )
