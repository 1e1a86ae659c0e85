"""AccountService: balances, positions, subaccounts, transfers, limits and the kill switch."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from google.protobuf import timestamp_pb2
from grpc import aio

from gateway.api import convert
from gateway.api.deps import ApiDeps
from gateway.api.paging import page
from gateway.api.streams import until_session_ends
from gateway.core.model import Permission
from gateway.sessions.permissions import require
from gateway.sessions.registry import ActiveSession
from krakengw.v1 import accounts_pb2, accounts_pb2_grpc

__all__ = ["AccountServicer"]

log = logging.getLogger(__name__)


class AccountServicer(accounts_pb2_grpc.AccountServiceServicer):
    def __init__(self, deps: ApiDeps) -> None:
        self._d = deps

    def _reader(self) -> ActiveSession:
        active = self._d.active()
        require(active.permissions, Permission.READ)
        return active

    async def ListBalances(
        self, request: accounts_pb2.ListBalancesRequest, context: aio.ServicerContext
    ) -> accounts_pb2.ListBalancesResponse:
        active = self._reader()
        wallet = convert.text(request.wallet, "wallet", convert.MAX_ID)
        balances = await self._d.account_port(active.account.name).balances()
        wanted = [b for b in balances if not wallet or b.wallet == wallet]
        items, token = page(wanted, request.page_size, request.page_token)
        return accounts_pb2.ListBalancesResponse(
            balances=[convert.balance(b) for b in items], next_page_token=token
        )

    async def ListPositions(
        self, request: accounts_pb2.ListPositionsRequest, context: aio.ServicerContext
    ) -> accounts_pb2.ListPositionsResponse:
        active = self._reader()
        symbol = convert.optional_symbol(request.instrument, request.HasField("instrument"))
        positions = await self._d.account_port(active.account.name).positions()
        wanted = [p for p in positions if symbol is None or p.symbol == symbol]
        items, token = page(wanted, request.page_size, request.page_token)
        return accounts_pb2.ListPositionsResponse(
            positions=[convert.position(p, active.account.name) for p in items],
            next_page_token=token,
        )

    async def StreamBalances(
        self, request: accounts_pb2.StreamBalancesRequest, context: aio.ServicerContext
    ) -> AsyncIterator[accounts_pb2.StreamBalancesResponse]:
        active = self._reader()
        source = self._d.account_port(active.account.name).stream_balances()
        first = True
        async for batch in until_session_ends(source, active, self._d):
            yield accounts_pb2.StreamBalancesResponse(
                snapshot=first, balances=[convert.balance(b) for b in batch]
            )
            first = False

    async def StreamPositions(
        self, request: accounts_pb2.StreamPositionsRequest, context: aio.ServicerContext
    ) -> AsyncIterator[accounts_pb2.StreamPositionsResponse]:
        active = self._reader()
        account = active.account.name
        source = self._d.account_port(account).stream_positions()
        first = True
        async for batch in until_session_ends(source, active, self._d):
            yield accounts_pb2.StreamPositionsResponse(
                snapshot=first, positions=[convert.position(p, account) for p in batch]
            )
            first = False

    async def ListSubaccounts(
        self, request: accounts_pb2.ListSubaccountsRequest, context: aio.ServicerContext
    ) -> accounts_pb2.ListSubaccountsResponse:
        active = self._reader()
        subs = await self._d.account_port(active.account.name).subaccounts()
        items, token = page(list(subs), request.page_size, request.page_token)
        return accounts_pb2.ListSubaccountsResponse(
            subaccounts=[convert.subaccount(s) for s in items], next_page_token=token
        )

    async def TransferFunds(
        self, request: accounts_pb2.TransferFundsRequest, context: aio.ServicerContext
    ) -> accounts_pb2.TransferFundsResponse:
        active = self._d.active()
        require(active.permissions, Permission.TRANSFER)
        transfer_request = convert.transfer_request(request)
        done = await self._d.account_port(active.account.name).transfer(transfer_request)
        return accounts_pb2.TransferFundsResponse(
            transfer=convert.transfer(done, request.client_transfer_id)
        )

    async def GetLimits(
        self, request: accounts_pb2.GetLimitsRequest, context: aio.ServicerContext
    ) -> accounts_pb2.GetLimitsResponse:
        active = self._d.active()
        service = self._d.service
        name = active.account.name
        budgets = service.rate_budgets(active.context())
        return accounts_pb2.GetLimitsResponse(
            rate_budgets=[convert.rate_budget(b) for b in budgets],
            risk_limits=convert.risk_limits(
                service.risk.limits(name), service.kill_switch_active(name)
            ),
            retry_after=convert.retry_after(budgets),
        )

    async def EngageKillSwitch(
        self, request: accounts_pb2.EngageKillSwitchRequest, context: aio.ServicerContext
    ) -> accounts_pb2.EngageKillSwitchResponse:
        active = self._d.active()
        reason = convert.text(request.reason, "reason")
        canceled = await self._d.service.set_kill_switch(active.context(), True)
        log.warning(
            "kill switch engaged",
            extra={
                "session_id": active.session_id,
                "account": active.account.name,
                "canceled": canceled,
                "why": reason,
            },
        )
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        return accounts_pb2.EngageKillSwitchResponse(canceled_count=canceled, engaged_time=now)

    async def ReleaseKillSwitch(
        self, request: accounts_pb2.ReleaseKillSwitchRequest, context: aio.ServicerContext
    ) -> accounts_pb2.ReleaseKillSwitchResponse:
        active = self._d.active()
        await self._d.service.set_kill_switch(active.context(), False)
        log.warning(
            "kill switch released",
            extra={"session_id": active.session_id, "account": active.account.name},
        )
        return accounts_pb2.ReleaseKillSwitchResponse()
