"""A seeded stream of random requests against the engine, and the accounting invariants.

Used by the conservation and determinism tests: it mixes every order type and flag, cancels,
amends, edits, transfers and clock ticks, from several accounts on every pair.
"""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal

from simulator.engine import (
    CloseParams,
    EngineEvent,
    KrakenError,
    LedgerEvent,
    ManualClock,
    OrderParams,
    OrderType,
    Side,
    SpotEngine,
    StpType,
    TimeInForce,
    TriggerRef,
)
from simulator.engine.pairs import KrakenPair

USERS = ("U1", "U2", "U3", "U4", "S1")  # S1 is a subaccount of U1
FUNDING = {"ZUSD": "2000000", "XXBT": "20", "XETH": "400", "XXDG": "5000000", "USDT": "500000"}
_TYPES = list(OrderType)
_FLAGS = ["", "post", "fcib", "fciq", "fcib,post", "nompp"]


class RandomFlow:
    """Drives one engine with requests drawn from `random.Random(seed)`."""

    def __init__(self, engine: SpotEngine, clock: ManualClock, seed: int) -> None:
        self.engine = engine
        self.clock = clock
        self.rng = random.Random(seed)
        self.external: dict[str, Decimal] = defaultdict(Decimal)  # deposits - withdrawals
        self.errors: dict[str, int] = defaultdict(int)
        self.orders_sent = 0
        self.negative: list[LedgerEvent] = []  # every balance change is checked as it happens
        engine.subscribe(self._watch)
        for account in engine.accounts():  # whatever the engine funded itself (market maker)
            for entry in account.ledger:
                self.external[entry.asset] += entry.amount - entry.fee
        for user in USERS:
            master = "U1" if user == "S1" else None
            engine.create_account(user, master_id=master)
            for asset, amount in FUNDING.items():
                engine.deposit(user, asset, amount)
                self.external[asset] += Decimal(amount)

    def _watch(self, event: EngineEvent) -> None:
        if isinstance(event, LedgerEvent) and event.wallet_total < 0:
            self.negative.append(event)

    def run(self, orders: int) -> None:
        while self.orders_sent < orders:
            roll = self.rng.random()
            if roll < 0.70:
                self._add()
            elif roll < 0.78:
                self._cancel()
            elif roll < 0.85:
                self._amend()
            elif roll < 0.88:
                self._edit()
            elif roll < 0.89:
                self._call(lambda: self.engine.cancel_all(self.rng.choice(USERS)))
            elif roll < 0.90:
                self._transfer()
            else:
                self.clock.advance(Decimal(self.rng.randint(0, 2000)) / 1000)
                self.engine.tick()

    def _call(self, action: object) -> None:
        try:
            action()  # type: ignore[operator]
        except KrakenError as err:
            self.errors[err.code] += 1

    def _pair(self) -> KrakenPair:
        return self.engine.directory.pairs[self.rng.choice(sorted(self.engine.directory.pairs))]

    def _price(self, pair: KrakenPair, spread_pct: int = 3) -> Decimal:
        reference = self.engine.last_price(pair.id)
        move = Decimal(self.rng.randint(-spread_pct * 100, spread_pct * 100)) / 10000
        ticks = (reference * (1 + move) / pair.tick_size).to_integral_value()
        return max(ticks, Decimal(1)) * pair.tick_size

    def _add(self) -> None:
        self.orders_sent += 1
        rng, pair = self.rng, self._pair()
        kind = rng.choice(_TYPES)
        side = rng.choice((Side.BUY, Side.SELL))
        volume = pair.ordermin * rng.randint(1, 400)
        if rng.random() < 0.05:
            volume *= 1000  # mostly refused for funds
        flags = {f for f in rng.choice(_FLAGS).split(",") if f}
        price: Decimal | str | None = self._price(pair)
        price2: Decimal | str | None = self._price(pair)
        if kind.is_trailing:
            price = (
                f"+{rng.randint(1, 3)}%" if rng.random() < 0.5 else f"+{self._price(pair) / 100}"
            )
            price2 = rng.choice(("+0", "-0.5%", f"-{pair.tick_size * 5}"))
        if kind is OrderType.MARKET and side is Side.BUY and rng.random() < 0.2:
            flags, volume = {"viqc"}, pair.costmin * rng.randint(1, 2000)
        if kind not in (OrderType.LIMIT, OrderType.ICEBERG):
            flags.discard("post")
        tif = rng.choice((TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.GTD))
        if kind is OrderType.LIMIT and rng.random() < 0.1:
            tif = TimeInForce.FOK
        params = OrderParams(
            pair=pair.id,
            side=side,
            ordertype=kind,
            volume=volume,
            price=price,
            price2=price2,
            displayvol=(volume / 10).quantize(pair.lot_unit) if kind is OrderType.ICEBERG else None,
            trigger=TriggerRef.INDEX if pair.has_index and rng.random() < 0.3 else TriggerRef.LAST,
            oflags=frozenset(flags),
            timeinforce=tif
            if "post" not in flags or tif is not TimeInForce.IOC
            else TimeInForce.GTC,
            expiretm=f"+{rng.randint(5, 60)}" if tif is TimeInForce.GTD else None,
            starttm=f"+{rng.randint(1, 5)}" if rng.random() < 0.03 else None,
            userref=rng.randint(0, 5),
            stptype=rng.choice(list(StpType)),
            close=CloseParams(OrderType.LIMIT, str(self._price(pair)))
            if rng.random() < 0.05
            else None,
        )
        self._call(lambda: self.engine.add_order(rng.choice(USERS), params))

    def _random_open(self) -> tuple[str, str] | None:
        user = self.rng.choice(USERS)
        orders = self.engine.open_orders(user)
        return (user, self.rng.choice(orders).txid) if orders else None

    def _cancel(self) -> None:
        if target := self._random_open():
            self._call(lambda: self.engine.cancel_order(*target))

    def _amend(self) -> None:
        if not (target := self._random_open()):
            return
        user, txid = target
        order = self.engine.get_order(txid)
        assert order is not None
        pair = self.engine.directory.pairs[order.pair]
        qty = (order.volume * Decimal(self.rng.randint(50, 150)) / 100).quantize(pair.lot_unit)
        price = self._price(pair) if order.limit_price is not None else None
        self._call(
            lambda: self.engine.amend_order(user, txid=txid, order_qty=qty, limit_price=price)
        )

    def _edit(self) -> None:
        if not (target := self._random_open()):
            return
        user, txid = target
        order = self.engine.get_order(txid)
        assert order is not None
        pair = self.engine.directory.pairs[order.pair]
        volume = (order.volume * Decimal(self.rng.randint(50, 150)) / 100).quantize(pair.lot_unit)
        self._call(lambda: self.engine.edit_order(user, txid, pair.id, volume=volume))

    def _transfer(self) -> None:
        source, target = ("U1", "S1") if self.rng.random() < 0.5 else ("S1", "U1")
        asset = self.rng.choice(sorted(FUNDING))
        amount = Decimal(self.rng.randint(1, 1000))
        self._call(lambda: self.engine.account_transfer("U1", asset, amount, source, target))


def check_invariants(flow: RandomFlow) -> None:
    """Totals conserved exactly, no negative balance or hold, holds == sum of order holds."""
    engine = flow.engine
    assert flow.negative == [], flow.negative[:3]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for account in engine.accounts():
        order_holds: dict[str, Decimal] = defaultdict(Decimal)
        for order in engine.open_orders(account.id):
            order_holds[order.hold_asset] += order.hold_amount
        for asset, balance in account.balances.items():
            totals[asset] += balance
            assert balance >= 0, (account.id, asset, balance)
            hold = account.holds[asset]
            assert 0 <= hold <= balance, (account.id, asset, hold, balance)
            assert hold == order_holds[asset], (account.id, asset, hold, order_holds[asset])
    for asset in set(totals) | set(flow.external):
        assert totals[asset] == flow.external[asset], (asset, totals[asset], flow.external[asset])
