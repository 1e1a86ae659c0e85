"""InstrumentService and MarketDataService: reference and public market data."""

from __future__ import annotations

from collections.abc import AsyncIterator

from grpc import aio

from gateway.api import convert
from gateway.api.deps import ApiDeps
from gateway.api.streams import until_session_ends
from gateway.core.errors import ErrorReason, InvalidArgument
from gateway.core.model import Instrument, ProductType
from gateway.core.paging import page
from krakengw.v1 import (
    common_pb2,
    instruments_pb2,
    instruments_pb2_grpc,
    market_data_pb2,
    market_data_pb2_grpc,
)

__all__ = ["InstrumentServicer", "MarketDataServicer"]

DEFAULT_DEPTH = 10
MAX_DEPTH = 1000


class InstrumentServicer(instruments_pb2_grpc.InstrumentServiceServicer):
    def __init__(self, deps: ApiDeps) -> None:
        self._d = deps

    async def ListInstruments(
        self, request: instruments_pb2.ListInstrumentsRequest, context: aio.ServicerContext
    ) -> instruments_pb2.ListInstrumentsResponse:
        self._d.active()
        venue = convert.text(request.venue, "venue", convert.MAX_VENUE) or None
        try:
            name = instruments_pb2.ProductType.Name(request.product_type)
        except ValueError:
            raise InvalidArgument(
                "product_type: unknown value", ErrorReason.INVALID_FIELD
            ) from None
        short = name.removeprefix("PRODUCT_TYPE_")
        product = None if short == "UNSPECIFIED" else ProductType[short]
        found = [
            i
            for i in self._d.service.instruments(venue)
            if product is None or i.product_type is product
        ]
        got = page(found, request.page_size, request.page_token)
        return instruments_pb2.ListInstrumentsResponse(
            instruments=[convert.instrument(i) for i in got.items],
            next_page_token=got.next_page_token,
        )


class MarketDataServicer(market_data_pb2_grpc.MarketDataServiceServicer):
    def __init__(self, deps: ApiDeps) -> None:
        self._d = deps

    def _instrument(self, instrument: common_pb2.InstrumentId, present: bool) -> Instrument:
        if not present:
            raise InvalidArgument("instrument: is required", ErrorReason.MISSING_FIELD)
        venue, symbol = convert.symbol_in(instrument)
        return self._d.service.instrument(symbol, venue)

    async def GetTicker(
        self, request: market_data_pb2.GetTickerRequest, context: aio.ServicerContext
    ) -> market_data_pb2.GetTickerResponse:
        ctx = self._d.active().context()
        inst = self._instrument(request.instrument, request.HasField("instrument"))
        ticker = await self._d.service.data.ticker(ctx, inst)
        return market_data_pb2.GetTickerResponse(ticker=convert.ticker(ticker))

    async def StreamBook(
        self, request: market_data_pb2.StreamBookRequest, context: aio.ServicerContext
    ) -> AsyncIterator[market_data_pb2.StreamBookResponse]:
        active = self._d.active()
        inst = self._instrument(request.instrument, request.HasField("instrument"))
        if not 0 <= request.depth <= MAX_DEPTH:
            raise InvalidArgument(
                f"depth: must be between 0 and {MAX_DEPTH}",
                ErrorReason.INVALID_FIELD,
                metadata={"field": "depth"},
            )
        source = self._d.service.data.stream_book(
            active.context(), inst, request.depth or DEFAULT_DEPTH
        )
        sequence = 0
        async for item in until_session_ends(source, active, self._d):
            sequence += 1
            yield convert.book(item, sequence)

    async def StreamTrades(
        self, request: market_data_pb2.StreamTradesRequest, context: aio.ServicerContext
    ) -> AsyncIterator[market_data_pb2.StreamTradesResponse]:
        active = self._d.active()
        inst = self._instrument(request.instrument, request.HasField("instrument"))
        source = self._d.service.data.stream_trades(active.context(), inst)
        async for trade in until_session_ends(source, active, self._d):
            yield market_data_pb2.StreamTradesResponse(trades=[convert.public_trade(trade)])
