'use strict';
// End to end: start the Python gateway (development config, in-process paper venue) on a free
// port, submit an order and read it back on the execution stream.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');
const { KrakenGwClient } = require('..');

const GATEWAY = path.resolve(__dirname, '..', '..', '..', '.venv', 'bin', 'kraken-gateway');
const TOKEN = 'node-e2e-token';

async function startGateway(t) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'krakengw-node-'));
  const child = spawn(GATEWAY, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env: { ...process.env, KRAKENGW_TOKEN: TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`gateway exited with ${code} before listening: ${stderr.slice(-2000)}`);
  });
  const listening = (async () => {
    for await (const line of readline.createInterface({ input: child.stdout })) {
      const match = /^listening on (\S+)$/.exec(line.trim());
      if (match) return match[1];
    }
    throw new Error('gateway closed stdout before listening');
  })();
  return Promise.race([listening, exited]);
}

test('submit an order through the gateway and read it back on the execution stream', async (t) => {
  const target = await startGateway(t);
  const client = new KrakenGwClient(target, TOKEN);
  t.after(() => client.close());

  const session = await client.logon();
  assert.ok(session.sessionId);

  const order = await client.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '0.01', price: '50000' });
  assert.ok(order.spec.clientOrderId);
  assert.equal(order.spec.orderQty, '0.01');

  const stream = client.streamExecutions({ fromSequence: session.lastSequence });
  const reports = [];
  for await (const report of stream) {
    assert.equal(report.clientOrderId, order.spec.clientOrderId);
    reports.push(report);
    if (report.execType === 'EXEC_TYPE_NEW' || report.execType === 'EXEC_TYPE_REJECTED') break;
  }
  await stream.close();
  const last = reports[reports.length - 1];
  assert.equal(last.execType, 'EXEC_TYPE_NEW');
  assert.equal(last.orderQty, '0.01');
  assert.deepEqual(reports.map((r) => BigInt(r.sequence)),
    reports.map((_, i) => BigInt(session.lastSequence) + BigInt(i + 1)));
  assert.equal(stream.lastSequence, last.sequence);

  const fetched = await client.getOrder(order.spec.clientOrderId);
  assert.equal(fetched.venueOrderId, last.venueOrderId);
});
