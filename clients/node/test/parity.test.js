'use strict';
// Parity with the Python client: every public method of krakengw.Client exists here (camelCase),
// and every RPC of the contract is exercised against a live gateway on the simulator.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { KrakenGwClient, KrakenGwError } = require('..');
const { Gateway, TOKEN, RESTING_PRICE } = require('../testing/gateway');

const PYTHON_CLIENT = path.resolve(__dirname, '..', '..', 'python', 'krakengw', 'client.py');
const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

test('every public method of the Python client has a Node counterpart', () => {
  const source = fs.readFileSync(PYTHON_CLIENT, 'utf8');
  const methods = [...source.matchAll(/^ {4}def ([a-z]\w*)\(/gm)].map((m) => camel(m[1]));
  assert.ok(methods.length >= 25, `found only ${methods.length}`);
  const missing = methods.filter((m) => typeof KrakenGwClient.prototype[m] !== 'function');
  assert.deepEqual(missing, []);
});

/** The first message of an async iterator, then closes it. */
async function first(stream, predicate = () => true) {
  for await (const message of stream) {
    if (predicate(message)) {
      await stream.close();
      return message;
    }
  }
  throw new Error('stream ended early');
}

const resting = (qty = '0.01') => ({ symbol: 'BTC/USD', side: 'buy', qty, price: RESTING_PRICE });

test('every RPC against a live gateway', { timeout: 60000 }, async (t) => {
  const gateway = new Gateway(t);
  const client = new KrakenGwClient(await gateway.start(), TOKEN);
  t.after(() => client.close());

  const session = await client.logon();
  assert.equal(session.sessionId, 'demo');
  assert.equal((await client.heartbeat('ping')).testRequestId, 'ping');

  // Orders: submit, amend, get, list, replace, batches, cancel-all.
  const order = await client.submitOrder(resting());
  const id = order.spec.clientOrderId;
  const amended = await client.amendOrder(id, { price: '1001' });
  assert.equal(amended.spec.price, '1001');
  assert.equal((await client.getOrder({ venueOrderId: amended.venueOrderId })).spec.clientOrderId, id);
  assert.deepEqual((await client.listOpenOrders({ symbol: 'BTC/USD' })).map((o) => o.spec.clientOrderId), [id]);
  const replaced = await client.replaceOrder(id, resting('0.02'));
  assert.notEqual(replaced.spec.clientOrderId, id);
  assert.equal(replaced.origClientOrderId, id);
  const batch = await client.submitOrderBatch([resting(), { ...resting(), qty: '0' }]);
  assert.equal(batch[0].spec.orderQty, '0.01');
  assert.ok(batch[1] instanceof KrakenGwError && batch[1].reason, String(batch[1]));
  const canceled = await client.cancelOrderBatch([batch[0].spec.clientOrderId, 'no-such-order']);
  assert.ok(['ORD_STATUS_CANCELED', 'ORD_STATUS_PENDING_CANCEL'].includes(canceled[0].ordStatus));
  assert.equal(canceled[1].reason, 'ORDER_NOT_FOUND');
  assert.equal(await client.cancelAllOrders({ symbol: 'BTC/USD' }), 1); // the replacement
  const everyOrder = Object.fromEntries((await client.listOrders()).map((o) => [o.spec.clientOrderId, o.ordStatus]));
  assert.deepEqual(everyOrder, {
    [id]: 'ORD_STATUS_REPLACED',
    [replaced.spec.clientOrderId]: 'ORD_STATUS_CANCELED',
    [batch[0].spec.clientOrderId]: 'ORD_STATUS_CANCELED',
  });

  // OrderEntry (bidirectional): submit and cancel over one stream.
  const entry = client.orderEntry();
  const viaEntry = await entry.submitOrder(resting());
  const [ack, missing] = await Promise.allSettled([
    entry.cancelOrder(viaEntry.spec.clientOrderId), entry.cancelOrder('no-such-order'),
  ]);
  assert.equal(ack.value.spec.clientOrderId, viaEntry.spec.clientOrderId);
  assert.equal(missing.reason.reason, 'ORDER_NOT_FOUND');
  entry.close();
  await assert.rejects(entry.submitOrder(resting()), (err) => err instanceof KrakenGwError);

  // A market order trades: public trades stream, executions stream, fills.
  const trades = client.streamTrades('BTC/USD');
  const tradesRead = (async () => { for await (const m of trades) assert.ok(Array.isArray(m.trades)); })();
  const market = await client.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '0.01' });
  const stream = client.streamExecutions({ fromSequence: session.lastSequence });
  for await (const report of stream) {
    if (report.clientOrderId === market.spec.clientOrderId && report.execType === 'EXEC_TYPE_FILL') break;
  }
  await stream.close();
  await trades.close();
  await tradesRead; // subscribed and closed cleanly (no error)
  const fills = await client.listFills({ clientOrderId: market.spec.clientOrderId });
  assert.equal(fills.reduce((sum, f) => sum + Number(f.qty), 0), 0.01);
  assert.ok(fills.every((f) => f.sessionId === 'demo'), JSON.stringify(fills));

  // Account.
  const balances = await client.listBalances();
  assert.ok(balances.some((b) => b.asset === 'USD' && typeof b.total === 'string'));
  assert.deepEqual(await client.listPositions(), []);
  assert.equal((await first(client.streamBalances())).snapshot, true);
  assert.equal((await first(client.streamPositions())).snapshot, true);
  assert.ok(Array.isArray(await client.listSubaccounts()));
  await assert.rejects(
    client.transferFunds({ asset: 'USD', amount: '1', fromAccount: 'nobody', toAccount: 'nobody-else' }),
    (err) => err instanceof KrakenGwError && err.reason !== '',
  );
  await assert.rejects(client.transferFunds({ asset: 'USD', amount: 1 }), TypeError);
  const limits = await client.getLimits();
  assert.ok(limits.rateBudgets.some((b) => b.name === 'spot_rest'));
  // The reference price settings (the defaults here: 10 s old at most, 2 s first wait).
  assert.deepEqual(limits.riskLimits.referenceMaxAge, { seconds: '10', nanos: 0 });
  assert.deepEqual(limits.riskLimits.referenceWait, { seconds: '2', nanos: 0 });
  await client.submitOrder(resting());
  assert.equal(await client.engageKillSwitch('test'), 1);
  await assert.rejects(client.submitOrder(resting()), (err) => err.reason === 'KILL_SWITCH_ACTIVE');
  await client.releaseKillSwitch();

  // Instruments and market data.
  const instruments = await client.listInstruments({ venue: 'kraken' });
  assert.ok(instruments.some((i) => i.id.symbol === 'BTC/USD' && i.id.venue === 'kraken'));
  const ticker = await client.getTicker('BTC/USD');
  assert.ok(Number(ticker.bid) < Number(ticker.ask));
  const book = await first(client.streamBook('BTC/USD', { depth: 10 }));
  assert.equal(book.snapshot, true);
  assert.ok(book.bids.length > 0 && book.asks.length > 0);

  assert.equal((await client.logout()).canceledCount, 0);
  await assert.rejects(client.heartbeat(), (err) => ['NOT_LOGGED_ON', 'SESSION_NOT_FOUND'].includes(err.reason));
});
