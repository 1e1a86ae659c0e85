'use strict';
// End to end: start the Python gateway (development config: the embedded Kraken simulator) on
// a free port, submit orders and read them back on the execution stream, across a kill -9 restart.
const test = require('node:test');
const assert = require('node:assert/strict');
const { KrakenGwClient, KrakenGwError } = require('..');

const { Gateway, TOKEN, RESTING_PRICE } = require('../testing/gateway');

async function logonAgain(client) {
  try {
    return await client.logon();
  } catch (err) {
    // The resuming stream may have logged on again first.
    assert.ok(err instanceof KrakenGwError && err.reason === 'SESSION_ALREADY_ACTIVE', String(err));
    return null;
  }
}

/** Reads the stream until `done(reports)`; returns every report read. */
async function readUntil(stream, reports, done) {
  if (done(reports)) return reports;
  for await (const report of stream) {
    reports.push(report);
    if (done(reports)) break;
  }
  return reports;
}

const hasNew = (clientOrderId) => (reports) => reports.some(
  (r) => r.clientOrderId === clientOrderId && r.execType === 'EXEC_TYPE_NEW',
);

test('submit an order through the gateway and read it back on the execution stream', async (t) => {
  const gateway = new Gateway(t);
  const client = new KrakenGwClient(await gateway.start(), TOKEN);
  t.after(() => client.close());

  const session = await client.logon();
  assert.ok(session.sessionId);
  const order = await client.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '0.01', price: RESTING_PRICE });
  assert.equal(order.spec.orderQty, '0.01');
  // A venue filter without a symbol is sent and honoured.
  assert.deepEqual(await client.listOpenOrders({ venue: 'krakenfutures' }), []);
  const here = await client.listOpenOrders({ venue: 'kraken' });
  assert.deepEqual(here.map((o) => o.spec.clientOrderId), [order.spec.clientOrderId]);

  const stream = client.streamExecutions({ fromSequence: session.lastSequence });
  const reports = await readUntil(stream, [], hasNew(order.spec.clientOrderId));
  await stream.close();
  const last = reports[reports.length - 1];
  assert.equal(last.orderQty, '0.01');
  assert.deepEqual(reports.map((r) => BigInt(r.sequence)),
    reports.map((_, i) => BigInt(session.lastSequence) + BigInt(i + 1)));
  assert.equal(stream.lastSequence, last.sequence);

  const canceled = await client.cancelOrder(order.spec.clientOrderId);
  assert.ok(['ORD_STATUS_PENDING_CANCEL', 'ORD_STATUS_CANCELED'].includes(canceled.ordStatus));
  await assert.rejects(client.getOrder('no-such-order'), (err) => err.reason === 'ORDER_NOT_FOUND');
});

test('the execution stream resumes after a kill -9 and restart, each report once', async (t) => {
  const gateway = new Gateway(t);
  const client = new KrakenGwClient(await gateway.start(), TOKEN, { waitForReady: true });
  t.after(() => client.close());
  await client.logon();
  const first = await client.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '1', price: RESTING_PRICE });
  const stream = client.streamExecutions();
  const reports = await readUntil(stream, [], hasNew(first.spec.clientOrderId));

  await gateway.stop('SIGKILL');
  await gateway.start(); // same port, same journal
  await logonAgain(client);
  const second = await client.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '2', price: RESTING_PRICE });
  await readUntil(stream, reports, hasNew(second.spec.clientOrderId));
  await stream.close();

  assert.deepEqual(reports.map((r) => Number(r.sequence)), reports.map((_, i) => i + 1));
  assert.equal(new Set(reports.map((r) => r.execId)).size, reports.length);
});

test('batched and single-message streams give the same reports; closing mid-batch resumes after the last one read', async (t) => {
  const gateway = new Gateway(t);
  const client = new KrakenGwClient(await gateway.start(), TOKEN);
  t.after(() => client.close());
  await client.logon();
  for (let i = 0; i < 4; i += 1) {
    await client.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '1', price: RESTING_PRICE });
  }
  const total = 8; // PENDING_NEW and NEW per order
  // An answer waits only for PENDING_NEW; NEW commits behind it. A first stream sees all 8
  // (delivered once committed), so every stream below replays them all as possible resends.
  const probe = client.streamExecutions({ maxBatch: 0 });
  await readUntil(probe, [], (r) => r.length === total);
  await probe.close();
  const single = client.streamExecutions({ maxBatch: 0 });
  const one = await readUntil(single, [], (r) => r.length === total);
  await single.close();
  // Batched (the default): the replay arrives coalesced; stop after 3, resume from there.
  const first = client.streamExecutions();
  const part = await readUntil(first, [], (r) => r.length === 3);
  await first.close();
  assert.equal(first.lastSequence, '3');
  const rest = client.streamExecutions({ fromSequence: first.lastSequence });
  const more = await readUntil(rest, [], (r) => r.length === total - 3);
  await rest.close();
  const sequences = (reports) => reports.map((r) => Number(r.sequence));
  assert.deepEqual(sequences(one), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(sequences([...part, ...more]), sequences(one));
  assert.deepEqual([...part, ...more].map((r) => r.execId), one.map((r) => r.execId));
  assert.ok([...one, ...part, ...more].every((r) => r.possResend));
});

test('calls carry the logon id: a second client with the same token cannot act in the live session; takeover can', async (t) => {
  const gateway = new Gateway(t);
  const target = await gateway.start();
  const owner = new KrakenGwClient(target, TOKEN);
  const copy = new KrakenGwClient(target, TOKEN);
  t.after(() => { owner.close(); copy.close(); });
  await owner.logon();
  const order = await owner.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '1', price: RESTING_PRICE });
  await assert.rejects(
    copy.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '1', price: RESTING_PRICE }),
    (err) => err.reason === 'LOGON_ID_MISMATCH' && !String(err.message).includes(TOKEN),
  );
  await assert.rejects(copy.logon(), (err) => err.reason === 'SESSION_ALREADY_ACTIVE');
  await copy.logon({ takeover: true });
  const seen = await copy.getOrder(order.spec.clientOrderId);
  assert.equal(seen.spec.clientOrderId, order.spec.clientOrderId);
  await assert.rejects(owner.getOrder(order.spec.clientOrderId), (err) => err.reason === 'LOGON_ID_MISMATCH');
});

/** Stream heartbeats of a raw StreamExecutions call (no resume, no relogon: it ends when the
 * session ends) until `count` arrived; returns how many did. */
async function streamHeartbeats(client, count) {
  const call = client.stubs.ExecutionService.StreamExecutions({ fromSequence: '0' }, client.callMetadata());
  let beats = 0;
  try {
    for await (const message of call) {
      if (message.event === 'heartbeat') beats += 1;
      if (beats === count) break;
    }
  } catch (err) {
    if (err.code !== 1) throw err; // 1: CANCELLED
  } finally {
    call.cancel();
  }
  return beats;
}

test('a session that only streams stays logged on past its heartbeat timeout: the client heartbeats on its own', async (t) => {
  const gateway = new Gateway(t);
  const client = new KrakenGwClient(await gateway.start(), TOKEN);
  t.after(() => client.close());
  // A 500 ms interval: the gateway ends a session it hears nothing from for 1 s, open streams
  // or not. Without heartbeats the stream ends (the session timed out) long before 8 stream
  // heartbeats (one per interval) have come.
  await client.logon({ heartbeatIntervalMs: 500, heartbeats: false });
  assert.ok(await streamHeartbeats(client, 8) < 8, 'a silent session should have timed out');
  await assert.rejects(client.heartbeat(), (err) => ['NOT_LOGGED_ON', 'SESSION_NOT_FOUND'].includes(err.reason));

  const session = await client.logon({ heartbeatIntervalMs: 500 });
  assert.deepEqual(session.heartbeatInterval, { seconds: '0', nanos: 500000000 });
  const { logonId } = client;
  assert.equal(await streamHeartbeats(client, 8), 8); // 4 s: four heartbeat timeouts
  assert.equal(client.logonId, logonId); // the same logon all along, never logged on again
  assert.deepEqual(await client.listOpenOrders(), []);
  assert.equal(client.heartbeatTimer.hasRef(), false); // never keeps the process alive
  await client.logout();
  assert.equal(client.heartbeatTimer, null);
});
