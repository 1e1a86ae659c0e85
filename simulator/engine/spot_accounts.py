"""Accounts and money: creation, subaccounts, deposits, withdrawals, transfers, balances."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from decimal import Decimal

from simulator.engine import errors as E
from simulator.engine.errors import KrakenError
from simulator.engine.funds import AccountState, round_down
from simulator.engine.model import ZERO, BalanceEx, LedgerEntry, TradeBalance, TransferResult
from simulator.engine.parsing import parse_decimal
from simulator.engine.spot_state import SpotState


class SpotAccounts(SpotState):
    """Accounts and money: creation, subaccounts, deposits, withdrawals, transfers, balances."""

    def create_account(
        self,
        account_id: str,
        balances: Mapping[str, Decimal | str] | None = None,
        *,
        master_id: str | None = None,
        fee_exempt: bool = False,
        fee_volume: Decimal = ZERO,
        username: str | None = None,
    ) -> AccountState:
        """Register an account and deposit its starting balances (asset names in any spelling)."""
        if account_id in self._accounts:
            raise ValueError(f"account {account_id} exists")
        if master_id is not None and master_id not in self._accounts:
            raise ValueError(f"unknown master account {master_id}")
        state = AccountState(account_id, master_id, fee_exempt, fee_volume, username)
        self._accounts[account_id] = state
        self._open[account_id] = {}
        self._closed[account_id] = deque()
        self._cl_ord_ids[account_id] = {}
        self._fills[account_id] = deque()
        for asset, amount in (balances or {}).items():
            self.deposit(account_id, asset, amount)
        return state

    def create_subaccount(
        self, master_id: str, username: str, email: str, account_id: str | None = None
    ) -> AccountState:
        """CreateSubaccount: only a master account may create one; usernames are unique."""
        master = self.account(master_id)
        if master.is_subaccount:
            raise KrakenError(E.PERMISSION_DENIED)
        if any(a.username == username for a in self._accounts.values()):
            raise KrakenError("EGeneral:Invalid arguments:username")
        del email  # accepted for wire compatibility; the simulator sends no mail
        new_id = account_id or self.ids.account_id()
        return self.create_account(new_id, master_id=master_id, username=username)

    def deposit(self, account_id: str, asset: str, amount: Decimal | str) -> LedgerEntry:
        """Credit funds from outside the exchange (starting balances, tests)."""
        asset_id = self.asset_id(asset)
        value = round_down(self._amount(amount), self.directory.assets[asset_id].decimals)
        return self._post(self.account(account_id), asset_id, value, "deposit", "", "")

    def withdraw(self, account_id: str, asset: str, amount: Decimal | str) -> LedgerEntry:
        """Debit funds leaving the exchange; refused for subaccounts (Permission denied)."""
        account = self.account(account_id)
        if account.is_subaccount:
            raise KrakenError(E.PERMISSION_DENIED)
        asset_id, value = self.asset_id(asset), self._amount(amount)
        if account.available(asset_id) < value:
            raise KrakenError("EFunding:Insufficient funds")
        return self._post(account, asset_id, -value, "withdrawal", "", "")

    def account_transfer(
        self, requester_id: str, asset: str, amount: Decimal | str, from_id: str, to_id: str
    ) -> TransferResult:
        """AccountTransfer between a master and its subaccounts (master key only)."""
        requester = self.account(requester_id)
        if requester.is_subaccount:
            raise KrakenError(E.PERMISSION_DENIED)
        family = {requester_id} | {
            a.id for a in self._accounts.values() if a.master_id == requester_id
        }
        if from_id not in family or to_id not in family or from_id == to_id:
            raise KrakenError("EGeneral:Invalid arguments:account")
        asset_id, value = self.asset_id(asset), self._amount(amount)
        source = self.account(from_id)
        if source.available(asset_id) < value:
            raise KrakenError("EFunding:Insufficient funds")
        transfer_id = self.ids.transfer_id()
        self._post(source, asset_id, -value, "transfer", "spottosubaccount", transfer_id)
        self._post(
            self.account(to_id), asset_id, value, "transfer", "spotfromsubaccount", transfer_id
        )
        return TransferResult(transfer_id, "complete")

    def balances(self, account_id: str) -> dict[str, Decimal]:
        """Balance: asset id -> total (assets the account ever held)."""
        return dict(self.account(account_id).balances)

    def balance_ex(self, account_id: str) -> dict[str, BalanceEx]:
        """BalanceEx: asset id -> balance and hold_trade."""
        account = self.account(account_id)
        return {a: BalanceEx(b, account.holds.get(a, ZERO)) for a, b in account.balances.items()}

    def trade_balance(self, account_id: str, asset: str = "ZUSD") -> TradeBalance:
        """TradeBalance valued in `asset` at reference prices (spot only: no margin positions)."""
        account = self.account(account_id)
        target = self.asset_id(asset)
        equivalent = sum(
            (amount * self.value_in(a, target) for a, amount in account.balances.items()), ZERO
        )
        unexecuted = ZERO
        for order in self._open[account_id].values():
            pair = self.directory.pairs[order.pair]
            price = order.limit_price or self.reference[order.pair]
            unexecuted += order.remaining * price * self.value_in(pair.quote, target)
        places = Decimal("0.0001")
        eb = equivalent.quantize(places)
        return TradeBalance(
            eb=eb, tb=eb, m=ZERO, n=ZERO, c=ZERO, v=ZERO, e=eb, mf=eb, ml=None,
            uv=unexecuted.quantize(places),
        )  # fmt: skip

    def trade_volume(self, account_id: str) -> Decimal:
        """TradeVolume `volume`: USD value traded since start (Kraken: 30 days), 4 decimals."""
        return self.account(account_id).fee_volume.quantize(Decimal("0.0001"))

    def _amount(self, amount: Decimal | str) -> Decimal:
        value = parse_decimal(amount, "amount")
        if value <= 0:
            raise KrakenError("EFunding:Invalid amount")
        return value
