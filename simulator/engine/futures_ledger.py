"""The money side of the futures engine: wallets, positions, fills, margin, transfers, log.

The engine decides what trades; the ledger books it: fees and realised PnL into the contract's
margin wallet, the position after each fill, the fill record, the margin open orders reserve
(kept incrementally, so a check costs O(1) however many orders rest) and wallet transfers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from simulator.engine.futures_accounts import (
    CASH_WALLET,
    FLEX_WALLET,
    KrakenAccountLogEntry,
    KrakenFuturesAccount,
    KrakenFuturesPosition,
    KrakenMarginSummary,
    KrakenTradeLogDetails,
    margin_summary,
    order_initial_margin,
)
from simulator.engine.futures_errors import KrakenFuturesRequestError
from simulator.engine.futures_instruments import KrakenFuturesInstrument
from simulator.engine.futures_margin import apply_fill, trade_fee
from simulator.engine.futures_orders import KrakenFuturesFill, KrakenFuturesOrder
from simulator.engine.model import Side

ZERO = Decimal(0)
MAX_FILLS_LISTED = 100


class KrakenFuturesLedger:
    def __init__(
        self,
        instruments: Iterable[KrakenFuturesInstrument],
        mark: Callable[[str], Decimal],
        usd_price: Callable[[str], Decimal],
        new_id: Callable[[], str],
        now_ms: Callable[[], int],
    ) -> None:
        self._now_ms = now_ms
        self._instruments = {i.symbol: i for i in instruments}
        self._mark = mark
        self._usd_price = usd_price
        self._new_id = new_id
        self._accounts: dict[str, KrakenFuturesAccount] = {}
        self._fills: dict[str, list[KrakenFuturesFill]] = {}
        self._order_margin: dict[tuple[str, str], Decimal] = {}  # (account, wallet) -> total
        self._order_margin_of: dict[str, Decimal] = {}  # order id -> its part
        self._fill_seq = 0
        self._log: dict[str, list[KrakenAccountLogEntry]] = {}

    # ----------------------------------------------------------------- accounts

    def open_account(self, account_id: str, balances: Mapping[str, Decimal]) -> None:
        """Create an account's futures wallets from its starting balances (once)."""
        if account_id not in self._accounts:
            self._accounts[account_id] = KrakenFuturesAccount.seeded(account_id, balances)

    def account(self, account_id: str) -> KrakenFuturesAccount:
        if account_id not in self._accounts:
            self._accounts[account_id] = KrakenFuturesAccount(account_id)
        return self._accounts[account_id]

    def accounts_with_positions(self) -> list[str]:
        return sorted(a for a, acct in self._accounts.items() if acct.positions)

    def open_interest(self, symbol: str) -> Decimal:
        """Sum of client long positions (the maker's side is not modelled)."""
        held = (a.positions.get(symbol) for a in self._accounts.values())
        return sum((p.size for p in held if p is not None and p.size > 0), ZERO)

    def position_size(self, account_id: str, symbol: str) -> Decimal:
        pos = self.account(account_id).positions.get(symbol)
        return pos.size if pos else ZERO

    def positions(self, account_id: str) -> list[KrakenFuturesPosition]:
        return [p for p in self.account(account_id).positions.values() if p.size != 0]

    def fills(
        self, account_id: str, since_ms: int | None = None, limit: int | None = MAX_FILLS_LISTED
    ) -> list[KrakenFuturesFill]:
        """Newest first, at most 100 by default, like Kraken's `fills`."""
        rows = self._fills.get(account_id, [])
        picked = [f for f in rows if since_ms is None or f.time_ms > since_ms]
        return list(reversed(picked))[:limit]

    # ----------------------------------------------------------------- margin

    def margin(self, account_id: str, wallet: str) -> KrakenMarginSummary:
        return margin_summary(
            self.account(account_id),
            wallet,
            self._instruments.values(),
            self._mark,
            self._usd_price,
            self._order_margin.get((account_id, wallet), ZERO),
        )

    def track_order(self, order: KrakenFuturesOrder) -> None:
        """Re-price what `order` reserves after it was placed, changed, filled or closed."""
        inst = self._instruments[order.symbol]
        key = (order.account_id, inst.margin_wallet)
        old = self._order_margin_of.pop(order.order_id, ZERO)
        new = order_initial_margin(inst, order, self._mark(order.symbol))
        if new:
            self._order_margin_of[order.order_id] = new
        self._order_margin[key] = self._order_margin.get(key, ZERO) + new - old

    # ----------------------------------------------------------------- trading

    def book_fill(
        self,
        order: KrakenFuturesOrder,
        taker: KrakenFuturesOrder,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        now_ms: int,
    ) -> KrakenFuturesFill:
        """Fee, realised PnL and the new position of one side of an execution."""
        inst = self._instruments[order.symbol]
        account = self.account(order.account_id)
        fee = trade_fee(inst, qty, price, maker=is_maker)
        pos = account.positions.get(inst.symbol)
        size, entry = (pos.size, pos.entry_price) if pos else (ZERO, ZERO)
        change = apply_fill(inst, size, entry, qty if order.side is Side.BUY else -qty, price)
        wallet, unit = inst.margin_wallet, inst.settlement_currency
        before = account.wallet_balance(wallet, unit) or ZERO
        account.settle_pnl(inst, change.realised_pnl - fee)
        if change.size == 0:
            account.positions.pop(inst.symbol, None)
        else:
            account.positions[inst.symbol] = KrakenFuturesPosition(
                inst.symbol, change.size, change.entry_price, now_ms
            )
        self._fill_seq += 1
        fill = KrakenFuturesFill(
            fill_id=self._new_id(),
            account_id=order.account_id,
            symbol=inst.symbol,
            side=order.side,
            order_id=order.order_id,
            cli_ord_id=order.cli_ord_id,
            size=qty,
            price=price,
            time_ms=now_ms,
            maker=is_maker,
            fee=fee,
            fee_currency=inst.settlement_currency,
            order_type=order.order_type,
            taker_order_type=taker.order_type,
            remaining_order_qty=order.remaining,
            seq=self._fill_seq,
        )
        self._fills.setdefault(order.account_id, []).append(fill)
        details = KrakenTradeLogDetails(
            fee=fee,
            realized_pnl=change.realised_pnl,
            trade_price=price,
            mark_price=self._mark(inst.symbol),
            contract=inst.symbol.lower(),
            execution=fill.fill_id,
        )
        self._log_change(account, wallet, unit, before, "futures trade", details)
        return fill

    # ----------------------------------------------------------------- transfers

    def transfer(
        self,
        from_account: str,
        to_account: str,
        from_wallet: str,
        to_wallet: str,
        unit: str,
        amount: Decimal,
    ) -> None:
        """Move funds between wallets of one account or between master and subaccount."""
        if amount <= 0:
            raise KrakenFuturesRequestError("invalidAmount")
        src, dst = self.account(from_account), self.account(to_account)
        for acct, wallet in ((src, from_wallet), (dst, to_wallet)):
            if wallet not in (CASH_WALLET, FLEX_WALLET) and wallet not in acct.margin:
                raise KrakenFuturesRequestError("invalidAccount")
        balance = src.wallet_balance(from_wallet, unit)
        if balance is None or dst.wallet_balance(to_wallet, unit) is None:
            raise KrakenFuturesRequestError("invalidUnit")
        if from_wallet != CASH_WALLET:
            balance = min(balance, self._withdrawable(from_account, from_wallet, unit))
        if balance < amount:
            raise KrakenFuturesRequestError("insufficientFunds")
        for acct, wallet, delta in ((src, from_wallet, -amount), (dst, to_wallet, amount)):
            before = acct.wallet_balance(wallet, unit) or ZERO
            acct.credit(wallet, unit, delta)
            self._log_change(acct, wallet, unit, before, "transfer")

    def _withdrawable(self, account_id: str, wallet: str, unit: str) -> Decimal:
        """What may leave a margin wallet: its available margin, in `unit`."""
        available = self.margin(account_id, wallet).available_margin
        if wallet == FLEX_WALLET:
            price = self._usd_price(unit)
            return available / price if price else ZERO
        return available

    # ----------------------------------------------------------------- account log

    def _log_change(
        self,
        account: KrakenFuturesAccount,
        wallet: str,
        unit: str,
        before: Decimal,
        info: str,
        trade: KrakenTradeLogDetails | None = None,
    ) -> None:
        rows = self._log.setdefault(account.account_id, [])
        entry = KrakenAccountLogEntry(
            id=len(rows) + 1,
            time_ms=self._now_ms(),
            info=info,
            margin_account=wallet,
            asset=unit.lower(),
            old_balance=before,
            new_balance=account.wallet_balance(wallet, unit) or ZERO,
            booking_uid=self._new_id(),
            trade=trade,
        )
        rows.append(entry)

    def account_log(self, account_id: str) -> list[KrakenAccountLogEntry]:
        """Oldest first."""
        return list(self._log.get(account_id, []))
