'use strict';
// A fleet client's calls that lose the session together log on again once, and a call refused
// for a logon id the client has replaced since is repeated with the current one. A fake gateway
// on 127.0.0.1 binds calls to logon ids like the real one: each Logon gets a new id (a second
// one while the session is live is refused), a call with another id is refused with
// LOGON_ID_MISMATCH, and after the test drops the session every call gets NOT_LOGGED_ON.
const test = require('node:test');
const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const { KrakenGwClient, KrakenGwError, packageDefinition, v1 } = require('..');

/** A google.rpc.Status as the gateway sends it (ErrorInfo), and as a failed call's error. */
function status(code, reason) {
  const info = packageDefinition['google.rpc.ErrorInfo'].serialize({ reason: `ERROR_REASON_${reason}`, domain: 'krakengw' });
  return { code, message: reason, details: [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: info }] };
}

function refusal(code, reason) {
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', packageDefinition['google.rpc.Status'].serialize(status(code, reason)));
  return { code, details: reason, metadata, reason };
}

/** The fake's one session; `logonHeld` makes a Logon wait until that many calls were refused. */
async function fakeFleet(t) {
  const state = { current: null, logons: 0, refused: 0, logonHeld: 0, waiters: [] };
  const refuse = () => {
    state.refused += 1;
    for (const wake of state.waiters.splice(0)) wake();
    return refusal(grpc.status.FAILED_PRECONDITION, 'NOT_LOGGED_ON');
  };
  const check = (call) => {
    if (state.current === null) return refuse();
    if (call.metadata.get('krakengw-logon-id')[0] !== state.current) {
      return refusal(grpc.status.UNAUTHENTICATED, 'LOGON_ID_MISMATCH');
    }
    return null;
  };
  const server = new grpc.Server();
  server.addService(v1.SessionService.service, {
    async Logon(call, callback) {
      state.logons += 1;
      while (state.refused < state.logonHeld) await new Promise((wake) => state.waiters.push(wake));
      if (state.current !== null) {
        callback(refusal(grpc.status.ALREADY_EXISTS, 'SESSION_ALREADY_ACTIVE'));
        return;
      }
      state.current = `L${state.logons}`;
      callback(null, { sessionId: 's1', logonId: state.current });
    },
    Heartbeat(call, callback) {
      const refused = check(call);
      if (refused) callback(refused);
      else callback(null, {});
    },
    Logout(call, callback) { callback(null, {}); },
  });
  server.addService(v1.OrderService.service, {
    OrderEntry(call) {
      call.on('data', (request) => {
        const refused = check(call);
        if (refused) {
          call.write({ correlationId: request.correlationId, error: status(refused.code, refused.reason) });
        } else {
          call.write({ correlationId: request.correlationId, submitOrder: { order: { spec: request.submitOrder.order } } });
        }
      });
      call.on('end', () => call.end());
    },
  });
  const bind = () => new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  const ports = [await bind(), await bind()];
  t.after(() => server.forceShutdown());
  return { state, targets: ports.map((port) => `127.0.0.1:${port}`) };
}

test('calls of a fleet client that lose the session together log on again once', async (t) => {
  const { state, targets } = await fakeFleet(t);
  const client = new KrakenGwClient(targets, 'node-tok', { maxMoves: 5 });
  t.after(() => client.close());
  await client.logon();
  state.current = null; // the gateway lost the session
  state.logonHeld = 2; // the relogon is answered once both calls were refused
  await Promise.all([client.heartbeat(), client.heartbeat()]);
  assert.equal(state.logons, 2); // the first logon and one relogon
});

test('an OrderEntry refused for a replaced logon id sends again with the current one', async (t) => {
  const { state, targets } = await fakeFleet(t);
  const client = new KrakenGwClient(targets, 'node-tok', { maxMoves: 5 });
  t.after(() => client.close());
  await client.logon();
  const entry = client.orderEntry(); // carries the first logon's id
  state.current = null;
  await client.heartbeat(); // logs on again: the entry's id is replaced
  const order = await entry.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '0.01' });
  entry.close();
  assert.equal(order.spec.orderQty, '0.01');
  assert.equal(state.logons, 2);
});

test('a LOGON_ID_MISMATCH of the current id (a takeover) is not repeated', async (t) => {
  const { state, targets } = await fakeFleet(t);
  const client = new KrakenGwClient(targets, 'node-tok', { maxMoves: 5 });
  t.after(() => client.close());
  await client.logon();
  state.current = 'someone-else';
  await assert.rejects(client.heartbeat(), (err) => err instanceof KrakenGwError && err.reason === 'LOGON_ID_MISMATCH');
  assert.equal(state.logons, 1);
});
