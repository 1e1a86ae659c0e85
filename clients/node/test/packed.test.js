'use strict';
// The client as a user installs it: `npm pack`, the tarball installed into a fresh project
// outside this repository (dependencies from the npm cache, else the registry), and a script
// there that trades against a live gateway with the contract bundled in the tarball.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Gateway, TOKEN, RESTING_PRICE } = require('../testing/gateway');

const HERE = path.resolve(__dirname, '..');

const SCRIPT = `
const { KrakenGwClient, KrakenGwError } = require('@krakengw/client');
(async () => {
  const [target, token, price] = process.argv.slice(2);
  const gw = new KrakenGwClient(target, token);
  await gw.logon();
  const order = await gw.submitOrder({ symbol: 'BTC/USD', side: 'buy', qty: '0.01', price });
  const got = await gw.getOrder(order.spec.clientOrderId);
  let reason = '';
  try { await gw.getOrder('no-such-order'); } catch (err) { reason = err instanceof KrakenGwError && err.reason; }
  await gw.cancelOrder(order.spec.clientOrderId);
  await gw.logout();
  gw.close();
  console.log(JSON.stringify({ status: got.ordStatus, reason, from: require.resolve('@krakengw/client') }));
})().catch((err) => { console.error(String(err)); process.exit(1); });
`;

test('the npm-packed client works installed outside the repository', { timeout: 120000 }, async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'krakengw-npm-'));
  t.after(() => fs.rmSync(work, { recursive: true, force: true }));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: HERE }));
  const tarball = path.join(work, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  assert.ok(files.includes('index.d.ts') && files.includes('proto/krakengw/v1/orders.proto'), files.join(' '));
  assert.ok(files.includes('proto/third_party/google/rpc/error_details.proto'));
  assert.ok(!fs.existsSync(path.join(HERE, 'proto')), 'postpack left the bundled copy behind');

  const project = path.join(work, 'strategy');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'strategy', private: true }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: project });
  fs.writeFileSync(path.join(project, 'trade.js'), SCRIPT);

  const gateway = new Gateway(t);
  const target = await gateway.start();
  const out = execFileSync(process.execPath, ['trade.js', target, TOKEN, RESTING_PRICE], { cwd: project, encoding: 'utf8' });
  const result = JSON.parse(out);
  assert.equal(result.status, 'ORD_STATUS_NEW');
  assert.equal(result.reason, 'ORDER_NOT_FOUND');
  assert.ok(result.from.startsWith(path.join(project, 'node_modules')), result.from);
});
