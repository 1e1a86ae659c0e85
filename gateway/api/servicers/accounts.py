"""AccountService: balances, positions, subaccounts, transfers, limits and the kill switch."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from google.protobuf import timestamp_pb2
from grpc import aio

from gateway.api import convert
from gateway.api.deps import ApiDeps
from gateway.api.streams import until_session_ends
from krakengw.v1 import accounts_pb2, accounts_pb2_grpc

__all__ = ["AccountServicer"]

log = logging.getLogger(__name__)


class AccountServicer(accounts_pb2_grpc.AccountServiceServicer):
    def __init__(self, deps: ApiDeps) -> None:
        self._d = deps

    async def ListBalances(
        self, request: accounts_pb2.ListBalancesRequest, context: aio.ServicerContext
    ) -> accounts_pb2.ListBalancesResponse:
        ctx = self._d.active().context()
        wallet = convert.text(request.wallet, "wallet", convert.MAX_ID)
        got = await self._d.service.data.balances(
            ctx, wallet=wallet, page_size=request.page_size, page_token=request.page_token
        )
        return accounts_pb2.ListBalancesResponse(
            balances=[convert.balance(b) for b in got.items], next_page_token=got.next_page_token
        )

    async def ListPositions(
        self, request: accounts_pb2.ListPositionsRequest, context: aio.ServicerContext
    ) -> accounts_pb2.ListPositionsResponse:
        ctx = self._d.active().context()
        only = convert.instrument_filter(request.instrument, request.HasField("instrument"))
        got = await self._d.service.data.positions(
            ctx, symbol=only.symbol, page_size=request.page_size, page_token=request.page_token
        )
        # The venue filter applies within the page (pages may come back shorter).
        return accounts_pb2.ListPositionsResponse(
            positions=[
                convert.position(p, ctx.account) for p in got.items if only.venue_matches(p.venue)
            ],
            next_page_token=got.next_page_token,
        )

    async def StreamBalances(
        self, request: accounts_pb2.StreamBalancesRequest, context: aio.ServicerContext
    ) -> AsyncIterator[accounts_pb2.StreamBalancesResponse]:
        active = self._d.active()
        source = self._d.service.data.stream_balances(active.context())
        first = True
        async for batch in until_session_ends(source, active, self._d):
            yield accounts_pb2.StreamBalancesResponse(
                snapshot=first, balances=[convert.balance(b) for b in batch]
            )
            first = False

    async def StreamPositions(
        self, request: accounts_pb2.StreamPositionsRequest, context: aio.ServicerContext
    ) -> AsyncIterator[accounts_pb2.StreamPositionsResponse]:
        active = self._d.active()
        account = active.account.name
        source = self._d.service.data.stream_positions(active.context())
        first = True
        async for batch in until_session_ends(source, active, self._d):
            yield accounts_pb2.StreamPositionsResponse(
                snapshot=first, positions=[convert.position(p, account) for p in batch]
            )
            first = False

    async def ListSubaccounts(
        self, request: accounts_pb2.ListSubaccountsRequest, context: aio.ServicerContext
    ) -> accounts_pb2.ListSubaccountsResponse:
        ctx = self._d.active().context()
        got = await self._d.service.data.subaccounts(
            ctx, page_size=request.page_size, page_token=request.page_token
        )
        return accounts_pb2.ListSubaccountsResponse(
            subaccounts=[convert.subaccount(s) for s in got.items],
            next_page_token=got.next_page_token,
        )

    async def TransferFunds(
        self, request: accounts_pb2.TransferFundsRequest, context: aio.ServicerContext
    ) -> accounts_pb2.TransferFundsResponse:
        ctx = self._d.active().context()
        transfer_request = convert.transfer_request(request)
        done = await self._d.service.data.transfer(ctx, transfer_request)
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
        instance, key_ids = self._d.placement(name)
        return accounts_pb2.GetLimitsResponse(
            rate_budgets=[convert.rate_budget(b) for b in budgets],
            risk_limits=convert.risk_limits(service.risk.limits(name), service.kill_switch(name)),
            retry_after=convert.retry_after(budgets),
            instance=instance,
            leased_key_ids=key_ids,
            venue_status=self._d.venue_status(name),
            journal_status=service.journal_failure(name) or "",
        )

    async def EngageKillSwitch(
        self, request: accounts_pb2.EngageKillSwitchRequest, context: aio.ServicerContext
    ) -> accounts_pb2.EngageKillSwitchResponse:
        active = self._d.active()
        reason = convert.text(request.reason, "reason")
        canceled = await self._d.service.set_kill_switch(active.context(), True, reason)
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
