'use strict';
// The Node client: the contract loads and is complete, inputs are checked, errors parse.
const test = require('node:test');
const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const {
  KrakenGwClient, KrakenGwError, SERVICES, contractFiles, orderSpec, packageDefinition, v1,
} = require('..');

const EXPECTED_RPCS = {
  OrderService: ['SubmitOrder', 'SubmitOrderBatch', 'AmendOrder', 'ReplaceOrder', 'CancelOrder',
    'CancelOrderBatch', 'CancelAllOrders', 'GetOrder', 'ListOpenOrders', 'ListOrders', 'OrderEntry'],
  ExecutionService: ['StreamExecutions', 'ListFills'],
  AccountService: ['ListBalances', 'ListPositions', 'StreamBalances', 'StreamPositions',
    'ListSubaccounts', 'TransferFunds', 'GetLimits', 'EngageKillSwitch', 'ReleaseKillSwitch'],
  InstrumentService: ['ListInstruments'],
  MarketDataService: ['GetTicker', 'StreamBook', 'StreamTrades'],
  SessionService: ['Logon', 'Heartbeat', 'Logout'],
};

test('every contract file loads and every service has its RPCs', () => {
  assert.ok(contractFiles().length >= 8);
  assert.deepEqual([...SERVICES].sort(), Object.keys(EXPECTED_RPCS).sort());
  for (const [service, rpcs] of Object.entries(EXPECTED_RPCS)) {
    const definition = v1[service].service;
    assert.deepEqual(Object.keys(definition).sort(), [...rpcs].sort(), service);
    for (const rpc of rpcs) {
      const method = definition[rpc];
      assert.equal(method.path, `/krakengw.v1.${service}/${rpc}`);
      assert.equal(method.requestType.type.name, `${rpc}Request`);
      assert.equal(method.responseType.type.name, `${rpc}Response`);
    }
  }
  const entry = v1.OrderService.service.OrderEntry;
  assert.ok(entry.requestStream && entry.responseStream);
  assert.ok(v1.ExecutionService.service.StreamExecutions.responseStream);
});

test('every enum of the contract starts with its UNSPECIFIED value', () => {
  const enums = Object.entries(packageDefinition)
    .filter(([name, def]) => name.startsWith('krakengw.v1.') && String(def.format).includes('EnumDescriptorProto'));
  assert.ok(enums.length >= 15);
  for (const [name, def] of enums) {
    const first = def.type.value[0];
    assert.equal(first.number, 0, name);
    assert.match(first.name, /_UNSPECIFIED$/, name);
  }
});

test('order inputs: decimal strings only, short enum names, limit when priced', () => {
  const spec = orderSpec({ symbol: 'BTC/USD', side: 'buy', qty: '0.01', price: '50000.5', timeInForce: 'ioc' });
  assert.equal(spec.orderType, 'ORDER_TYPE_LIMIT');
  assert.equal(spec.side, 'SIDE_BUY');
  assert.equal(spec.timeInForce, 'TIME_IN_FORCE_IOC');
  assert.equal(spec.orderQty, '0.01');
  assert.equal(spec.price, '50000.5');
  assert.match(spec.clientOrderId, /^[0-9a-f-]{36}$/);
  assert.equal(orderSpec({ symbol: 'BTC/USD', side: 'sell', qty: '1' }).orderType, 'ORDER_TYPE_MARKET');
  assert.throws(() => orderSpec({ symbol: 'BTC/USD', side: 'buy', qty: 0.1 }), TypeError);
  assert.throws(() => orderSpec({ symbol: 'BTC/USD', side: 'buy', qty: '1e3' }), TypeError);
});

function errorInfoStatus(code, message, reason) {
  const info = packageDefinition['google.rpc.ErrorInfo'].serialize({ reason, domain: 'krakengw' });
  return packageDefinition['google.rpc.Status'].serialize({
    code,
    message,
    // google.protobuf.Any keeps its snake_case field names in protobufjs.
    details: [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: info }],
  });
}

test('a failed call becomes a KrakenGwError with the ErrorInfo reason, token redacted', async (t) => {
  const token = 'node-s3cret-token';
  const server = new grpc.Server();
  server.addService(v1.OrderService.service, {
    SubmitOrder(call, callback) {
      const metadata = new grpc.Metadata();
      const auth = call.metadata.get('authorization')[0];
      metadata.set('grpc-status-details-bin',
        errorInfoStatus(grpc.status.PERMISSION_DENIED, `read-only: ${auth}`, 'ERROR_REASON_PERMISSION_DENIED_TRADE'));
      callback({ code: grpc.status.PERMISSION_DENIED, details: `read-only: ${auth}`, metadata });
    },
  });
  const port = await new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  t.after(() => server.forceShutdown());
  const client = new KrakenGwClient(`127.0.0.1:${port}`, token);
  t.after(() => client.close());
  await assert.rejects(client.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '1' }), (err) => {
    assert.ok(err instanceof KrakenGwError);
    assert.equal(err.code, grpc.status.PERMISSION_DENIED);
    assert.equal(err.codeName, 'PERMISSION_DENIED');
    assert.equal(err.reason, 'PERMISSION_DENIED_TRADE');
    assert.equal(err.domain, 'krakengw');
    assert.ok(!String(err).includes(token) && err.message.includes('Bearer [redacted]'));
    return true;
  });
  assert.ok(!require('node:util').inspect(client).includes(token));
});
