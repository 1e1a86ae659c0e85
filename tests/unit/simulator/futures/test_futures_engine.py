"""The futures engine: matching against the synthetic maker, margin, positions, triggers."""

from __future__ import annotations

from decimal import Decimal

from simulator.engine.clock import ManualClock
from simulator.engine.futures_engine import KrakenFuturesEngine
from simulator.engine.futures_events import (
    KrakenFuturesBookEvent,
    KrakenFuturesEvent,
    KrakenFuturesFillEvent,
    KrakenFuturesOrderUpdate,
)
from simulator.engine.futures_orders import (
    KrakenDeviationUnit,
    KrakenFuturesOrderRequest,
    KrakenFuturesOrderType,
    KrakenOrderEventType,
    KrakenTriggerSignal,
)
from simulator.engine.model import Side

D = Decimal
ACCT = "AA00TEST"


def make_engine(seed: int = 7) -> KrakenFuturesEngine:
    engine = KrakenFuturesEngine(ManualClock(), seed=seed)
    engine.open_account(ACCT, {"USD": D(100_000), "XBT": D(2)})
    return engine


def req(
    symbol: str, side: Side, kind: KrakenFuturesOrderType, size: str, **kw: object
) -> KrakenFuturesOrderRequest:
    return KrakenFuturesOrderRequest(symbol, side, kind, D(size), **kw)  # type: ignore[arg-type]


def best(engine: KrakenFuturesEngine, symbol: str, side: Side) -> Decimal:
    bids, asks, _ = engine.book_levels(symbol, 1)
    return (bids if side is Side.BUY else asks)[0][0]


def test_maker_ladder_is_two_sided_and_on_tick() -> None:
    engine = make_engine()
    for inst in engine.instruments:
        bids, asks, seq = engine.book_levels(inst.symbol)
        assert len(bids) == 10 and len(asks) == 10 and seq > 0
        assert bids[0][0] < asks[0][0]
        assert all(inst.on_tick(p) for p, _ in bids + asks)


def test_linear_market_buy_opens_long_and_pays_taker_fee() -> None:
    engine = make_engine()
    events: list[KrakenFuturesEvent] = []
    engine.subscribe(events.append)
    ask = best(engine, "PF_XBTUSD", Side.SELL)
    result = engine.send_order(ACCT, req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.MKT, "0.5"))
    assert result.status == "placed"
    assert [e.type for e in result.events] == [
        KrakenOrderEventType.PLACE,
        KrakenOrderEventType.EXECUTION,
    ]
    [pos] = engine.positions(ACCT)
    assert pos.size == D("0.5") and pos.entry_price == ask
    fee = D("0.5") * ask * D("0.0005")
    assert engine.account(ACCT).flex["USD"] == D(100_000) - fee
    fills = [e.fill for e in events if isinstance(e, KrakenFuturesFillEvent)]
    assert len(fills) == 1 and not fills[0].maker and fills[0].fee == fee
    assert any(isinstance(e, KrakenFuturesOrderUpdate) and e.reason == "full_fill" for e in events)


def test_inverse_round_trip_realises_pnl_in_xbt() -> None:
    engine = make_engine()
    engine.send_order(ACCT, req("PI_XBTUSD", Side.BUY, KrakenFuturesOrderType.MKT, "10000"))
    [pos] = engine.positions(ACCT)
    entry = pos.entry_price
    engine.set_index("XBT", D(110000))  # +10%: the maker requotes around the new index
    before = engine.account(ACCT).margin["fi_xbtusd"]
    engine.send_order(
        ACCT, req("PI_XBTUSD", Side.SELL, KrakenFuturesOrderType.MKT, "10000", reduce_only=True)
    )
    assert engine.positions(ACCT) == []
    gained = engine.account(ACCT).margin["fi_xbtusd"] - before
    sells = [f for f in engine.fills(ACCT) if f.side is Side.SELL]
    assert sum(f.size for f in sells) == 10000
    # Per fill: q * (1/entry - 1/price) XBT of PnL, minus the taker fee q/price * 0.05%.
    expected = sum(
        (f.size * (1 / entry - 1 / f.price) - f.size / f.price * D("0.0005") for f in sells), D(0)
    )
    assert gained > 0 and abs(gained - expected) < D("1e-9")


def test_limit_rests_then_cancel_removes_it_from_the_book() -> None:
    engine = make_engine()
    price = best(engine, "PF_ETHUSD", Side.BUY) - D(5)
    events: list[KrakenFuturesEvent] = []
    engine.subscribe(events.append)
    result = engine.send_order(
        ACCT,
        req(
            "PF_ETHUSD",
            Side.BUY,
            KrakenFuturesOrderType.LMT,
            "1.5",
            limit_price=price,
            cli_ord_id="c-1",
        ),
    )
    assert result.status == "placed" and result.order_id
    [book_event] = [e for e in events if isinstance(e, KrakenFuturesBookEvent)]
    assert book_event.price == price and book_event.qty == D("1.5")
    assert [o.order_id for o in engine.open_orders(ACCT)] == [result.order_id]
    dup = engine.send_order(
        ACCT,
        req(
            "PF_ETHUSD",
            Side.BUY,
            KrakenFuturesOrderType.LMT,
            "1",
            limit_price=price,
            cli_ord_id="c-1",
        ),
    )
    assert dup.status == "clientOrderIdAlreadyExist"
    cancel = engine.cancel_order(ACCT, cli_ord_id="c-1")
    assert cancel.status == "cancelled"
    assert engine.open_orders(ACCT) == []
    assert engine.cancel_order(ACCT, order_id=result.order_id).status == "notFound"


def test_rejections() -> None:
    engine = make_engine()
    ask = best(engine, "PF_XBTUSD", Side.SELL)
    post = engine.send_order(
        ACCT, req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.POST, "0.1", limit_price=ask)
    )
    assert post.status == "postWouldExecute"
    assert post.events[0].reason == "POST_WOULD_EXECUTE"
    far = engine.send_order(
        ACCT, req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.IOC, "0.1", limit_price=D(1000))
    )
    assert far.status == "iocWouldNotExecute"
    assert (
        engine.send_order(
            ACCT,
            req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.LMT, "0.00001", limit_price=D(1000)),
        ).status
        == "invalidSize"
    )
    assert (
        engine.send_order(
            ACCT,
            req("PI_XBTUSD", Side.BUY, KrakenFuturesOrderType.LMT, "1", limit_price=D("1000.3")),
        ).status
        == "invalidPrice"
    )
    assert (
        engine.send_order(
            ACCT, req("PF_XBTUSD", Side.SELL, KrakenFuturesOrderType.MKT, "0.1", reduce_only=True)
        ).status
        == "wouldNotReducePosition"
    )
    huge = engine.send_order(
        ACCT, req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.LMT, "100", limit_price=D(80000))
    )
    assert huge.status == "insufficientAvailableFunds"


def test_self_fill_is_refused() -> None:
    engine = make_engine()
    bid = best(engine, "PF_XBTUSD", Side.BUY)
    ask = best(engine, "PF_XBTUSD", Side.SELL)
    mid = bid + (ask - bid) // 2 if ask - bid > 1 else None
    assert mid is not None
    engine.send_order(
        ACCT, req("PF_XBTUSD", Side.SELL, KrakenFuturesOrderType.POST, "0.1", limit_price=mid)
    )
    taken = engine.send_order(
        ACCT, req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.LMT, "0.1", limit_price=ask)
    )
    assert taken.status == "selfFill"


def test_stop_triggers_on_mark_and_trailing_stop_follows_peak() -> None:
    engine = make_engine()
    engine.send_order(ACCT, req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.MKT, "0.2"))
    stop = engine.send_order(
        ACCT,
        req(
            "PF_XBTUSD",
            Side.SELL,
            KrakenFuturesOrderType.STP,
            "0.1",
            stop_price=D(85000),
            trigger_signal=KrakenTriggerSignal.MARK,
            reduce_only=True,
        ),
    )
    trail = engine.send_order(
        ACCT,
        req(
            "PF_XBTUSD",
            Side.SELL,
            KrakenFuturesOrderType.TRAILING_STOP,
            "0.1",
            trigger_signal=KrakenTriggerSignal.INDEX,
            reduce_only=True,
            trailing_deviation=D(5),
            trailing_unit=KrakenDeviationUnit.PERCENT,
        ),
    )
    assert stop.status == trail.status == "placed"
    assert len(engine.open_orders(ACCT)) == 2
    engine.set_index("XBT", D(100000))  # peak moves to 100000: trailing trigger at 95000
    engine.set_index("XBT", D(96000))
    assert len(engine.open_orders(ACCT)) == 2
    engine.set_index("XBT", D(94900))  # trailing fires, the stop at 85000 does not
    open_ids = [o.order_id for o in engine.open_orders(ACCT)]
    assert open_ids == [stop.order_id]
    [pos] = engine.positions(ACCT)
    assert pos.size == D("0.1")
    engine.set_index("XBT", D(84000))
    assert engine.open_orders(ACCT) == [] and engine.positions(ACCT) == []


def test_edit_moves_price_and_size() -> None:
    engine = make_engine()
    price = best(engine, "PF_XBTUSD", Side.BUY) - D(100)
    placed = engine.send_order(
        ACCT, req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.LMT, "0.1", limit_price=price)
    )
    edited = engine.edit_order(ACCT, order_id=placed.order_id, size=D("0.3"), limit_price=price - 1)
    assert edited.status == "edited"
    [order] = engine.open_orders(ACCT)
    assert order.quantity == D("0.3") and order.limit_price == price - 1
    assert engine.edit_order(ACCT, order_id="nope").status == "orderForEditNotFound"
    assert (
        engine.edit_order(ACCT, order_id=placed.order_id, stop_price=D(1)).status
        == "orderForEditNotAStop"
    )


def test_resting_order_fills_when_the_market_moves_through_it() -> None:
    engine = make_engine()
    price = best(engine, "PF_XBTUSD", Side.BUY) - D(500)
    engine.send_order(
        ACCT, req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.LMT, "0.1", limit_price=price)
    )
    engine.set_index("XBT", price - 2000)
    assert engine.open_orders(ACCT) == []
    [fill] = engine.fills(ACCT)
    assert fill.maker and fill.price == price


def test_dead_man_switch_cancels_on_the_tick_after_its_deadline() -> None:
    clock = ManualClock()
    engine = KrakenFuturesEngine(clock, seed=1)
    engine.open_account(ACCT, {"USD": D(100_000)})
    price = best(engine, "PF_XBTUSD", Side.BUY) - D(5000)  # far from any market move
    engine.send_order(
        ACCT, req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.LMT, "0.1", limit_price=price)
    )
    assert engine.cancel_all_after(ACCT, 60) == int(clock.now() * 1000) + 60_000
    clock.advance(59)
    engine.tick()
    assert len(engine.open_orders(ACCT)) == 1
    clock.advance(2)
    engine.tick()
    assert engine.open_orders(ACCT) == []
    assert engine.cancel_all_after(ACCT, 0) is None


def test_same_seed_same_market() -> None:
    a, b = make_engine(3), make_engine(3)
    for _ in range(5):
        a.step()
        b.step()
    assert a.book_levels("PI_XBTUSD") == b.book_levels("PI_XBTUSD")
    c = make_engine(4)
    for _ in range(5):
        c.step()
    assert a.book_levels("PI_XBTUSD") != c.book_levels("PI_XBTUSD")


def test_reserved_order_margin_matches_a_recount_after_random_activity() -> None:
    import random

    from simulator.engine.futures_accounts import order_initial_margin

    engine = make_engine(seed=5)
    rng = random.Random(1)
    kinds = [KrakenFuturesOrderType.LMT, KrakenFuturesOrderType.POST, KrakenFuturesOrderType.STP]
    for _ in range(300):
        symbol = rng.choice(["PF_XBTUSD", "PI_XBTUSD"])
        inst = engine.instrument(symbol)
        mark = engine.mark_price(symbol)
        side = rng.choice([Side.BUY, Side.SELL])
        action = rng.random()
        open_orders = engine.open_orders(ACCT)
        if action < 0.5 or not open_orders:
            offset = D(rng.randint(-40, 40)) * inst.tick_size * 20
            price = round(mark + offset)
            kind = rng.choice(kinds)
            size = inst.size_step * rng.randint(1, 50) * (1000 if inst.inverse else 10)
            stop = {"stop_price": D(price)} if kind is KrakenFuturesOrderType.STP else {}
            limit = {} if stop else {"limit_price": D(price)}
            engine.send_order(ACCT, req(symbol, side, kind, str(size), **limit, **stop))
        elif action < 0.7:
            victim = rng.choice(open_orders)
            engine.edit_order(ACCT, order_id=victim.order_id, size=victim.remaining * 2)
        elif action < 0.85:
            engine.cancel_order(ACCT, order_id=rng.choice(open_orders).order_id)
        else:
            engine.step()
        for wallet in ("flex", "fi_xbtusd"):
            summary = engine.margin(ACCT, wallet)
            recount = sum(
                (
                    order_initial_margin(
                        engine.instrument(o.symbol), o, engine.mark_price(o.symbol)
                    )
                    for o in engine.open_orders(ACCT)
                    if engine.instrument(o.symbol).margin_wallet == wallet
                ),
                D(0),
            )
            assert summary.initial_margin_with_orders - summary.initial_margin == recount


def test_resting_reduce_only_orders_follow_the_position() -> None:
    engine = make_engine()
    engine.send_order(ACCT, req("PF_ETHUSD", Side.BUY, KrakenFuturesOrderType.MKT, "2"))
    ask = best(engine, "PF_ETHUSD", Side.SELL)
    far = ask + 50
    take_profit = engine.send_order(
        ACCT,
        req(
            "PF_ETHUSD",
            Side.SELL,
            KrakenFuturesOrderType.LMT,
            "2",
            limit_price=far,
            reduce_only=True,
        ),
    )
    engine.send_order(ACCT, req("PF_ETHUSD", Side.SELL, KrakenFuturesOrderType.MKT, "1.5"))
    [order] = engine.open_orders(ACCT)
    assert order.order_id == take_profit.order_id and order.remaining == D("0.5")
    _, asks, _ = engine.book_levels("PF_ETHUSD")
    assert (far, D("0.5")) in asks
    engine.send_order(ACCT, req("PF_ETHUSD", Side.SELL, KrakenFuturesOrderType.MKT, "0.5"))
    assert engine.positions(ACCT) == [] and engine.open_orders(ACCT) == []


def test_a_wallet_below_maintenance_margin_is_liquidated() -> None:
    engine = KrakenFuturesEngine(ManualClock(), seed=9)
    engine.open_account("THIN", {"USD": D(2500)})
    events: list[KrakenFuturesEvent] = []
    engine.subscribe(events.append)
    bought = engine.send_order("THIN", req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.MKT, "1"))
    assert bought.status == "placed"  # 100k notional on 2.5k: 40x, 1% maintenance margin
    below = best(engine, "PF_XBTUSD", Side.BUY) - D(10000)
    resting = engine.send_order(
        "THIN", req("PF_XBTUSD", Side.BUY, KrakenFuturesOrderType.LMT, "0.001", limit_price=below)
    )
    engine.set_index("XBT", D(99000))  # -1%: equity is still above maintenance
    assert engine.positions("THIN") and len(engine.open_orders("THIN")) == 1
    engine.set_index("XBT", D(98200))  # about -1.8%: equity < 1% of notional
    assert engine.positions("THIN") == [] and engine.open_orders("THIN") == []
    liquidation = [
        f for f in engine.fills("THIN") if f.order_type is KrakenFuturesOrderType.LIQUIDATION
    ]
    assert sum(f.size for f in liquidation) == 1 and all(f.side is Side.SELL for f in liquidation)
    reasons = {
        (e.order.order_id, e.reason) for e in events if isinstance(e, KrakenFuturesOrderUpdate)
    }
    assert (resting.order_id, "liquidation") in reasons
