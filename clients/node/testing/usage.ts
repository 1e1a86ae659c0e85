// Compiled (never run) by test/types.test.js with `tsc --strict --noEmit`: the declarations in
// index.d.ts describe the client's calls, and misuse does not type-check.
import { KrakenGwClient, KrakenGwError, type Message } from '../index';

async function trade(): Promise<string> {
  const gw = new KrakenGwClient('127.0.0.1:50051', 'token', { timeoutMs: 5000 });
  const session: Message = await gw.logon({ cancelOnDisconnect: true, heartbeatIntervalMs: 2000 });
  const order = await gw.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '0.01', price: '50000' });
  await gw.amendOrder(order.spec.clientOrderId, { price: '50100' });
  const results = await gw.cancelOrderBatch([order.spec.clientOrderId]);
  for (const r of results) if (r instanceof KrakenGwError) console.log(r.reason, r.codeName);
  const count: number = await gw.cancelAllOrders({ symbol: 'BTC/USD' });
  const entry = gw.orderEntry();
  await entry.cancelOrder({ venueOrderId: 'O1' });
  entry.close();
  const stream = gw.streamExecutions({ fromSequence: session.lastSequence, maxBatch: 0 });
  for await (const report of stream) console.log(report.sequence);
  await stream.close();
  const fills = await gw.listFills({ clientOrderId: order.spec.clientOrderId });
  const owner: string = fills[0].sessionId;
  // @ts-expect-error a fill's session id is a string
  const wrong: number = fills[0].sessionId;
  const limits = await gw.getLimits();
  const maxAge: string | undefined = limits.riskLimits.referenceMaxAge?.seconds;
  const book = gw.streamBook('BTC/USD', { depth: 10 });
  await book.close();
  // @ts-expect-error prices are decimal strings, never numbers
  await gw.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: 0.01 });
  gw.close();
  return `${stream.lastSequence} ${count} ${owner} ${wrong} ${maxAge}`;
}

void trade;
