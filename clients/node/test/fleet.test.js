'use strict';
// A fleet on real processes (tests/support/fleet_harness.py: one PostgreSQL, the simulator, two
// `kraken-gateway serve` sharing the journal): a client given both addresses follows its session
// when the gateway serving it is killed with -9, and its execution stream resumes there.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { KrakenGwClient, KrakenGwError } = require('..');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const RESTING_PRICE = '20000';

/** The harness process: its first line describes the fleet, then one answer per command. */
class Fleet {
  static async start(t) {
    const child = spawn(PYTHON, ['-m', 'tests.support.fleet_harness', '--gateways', '2', '--accounts', '2', '--ttl', '2'], {
      cwd: ROOT,
      env: { ...process.env, PYTHONPATH: `${ROOT}:${path.join(ROOT, 'clients', 'python')}` },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
    const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const fleet = new Fleet(child, lines);
    t.after(async () => {
      child.stdin.end();
      if (child.exitCode === null) await once(child, 'exit');
    });
    const first = await lines.next();
    assert.ok(!first.done, `fleet harness ended before it was ready: ${stderr}`);
    fleet.info = JSON.parse(first.value);
    return fleet;
  }

  constructor(child, lines) {
    this.child = child;
    this.lines = lines;
  }

  async command(text) {
    this.child.stdin.write(`${text}\n`);
    const answer = await this.lines.next();
    assert.ok(!answer.done, `fleet harness ended on ${text}`);
    return JSON.parse(answer.value);
  }
}

test('a client given every fleet address keeps trading when its gateway is killed -9', { timeout: 240000 }, async (t) => {
  const fleet = await Fleet.start(t);
  const { gateways, tokens, serving } = fleet.info;
  const owner = serving.acct0;
  const other = Object.keys(gateways).find((name) => name !== owner);

  // The other gateway refuses the session and names the owner's address.
  const lone = new KrakenGwClient(gateways[other], tokens.acct0);
  const moved = await lone.logon().then(() => null, (err) => err);
  lone.close();
  assert.ok(moved instanceof KrakenGwError, String(moved));
  assert.equal(moved.reason, 'SESSION_MOVED');
  assert.equal(moved.metadata.address, gateways[owner]);

  const client = new KrakenGwClient([gateways[other], gateways[owner]], tokens.acct0, { maxMoves: 200 });
  t.after(() => client.close());
  const session = await client.logon(); // the other first: SESSION_MOVED, then the owner
  assert.equal(session.instance, owner);

  const reports = [];
  let wake = () => {};
  const stream = client.streamExecutions({ maxBatch: 0 });
  const reading = (async () => {
    for await (const report of stream) {
      reports.push(report);
      wake();
    }
  })().catch((err) => err);

  const placed = [];
  for (let i = 0; i < 8; i += 1) {
    if (i === 4) await fleet.command(`kill ${owner}`); // kill -9 while trading
    const input = { symbol: 'BTC/USD', side: 'buy', qty: '0.01' };
    if (i % 2 === 0) input.price = RESTING_PRICE;
    placed.push(await client.submitOrder(input));
  }
  assert.equal((await client.getLimits()).instance, other);

  // An answer waits only for PENDING_NEW: the journal is read once every order's last report
  // (NEW of a resting one, FILLED of a market one) reached the stream, so it holds them all.
  const final = (order, i) => (r) => r.clientOrderId === order.spec.clientOrderId
    && r.ordStatus === (i % 2 === 0 ? 'ORD_STATUS_NEW' : 'ORD_STATUS_FILLED');
  await new Promise((resolve) => {
    wake = () => {
      if (placed.every((order, i) => reports.some(final(order, i)))) resolve();
    };
    wake();
  });
  const journaled = (await fleet.command('journal acct0')).reports;
  const last = journaled[journaled.length - 1][0];
  await new Promise((resolve) => {
    wake = () => {
      if (reports.length && Number(reports[reports.length - 1].sequence) >= last) resolve();
    };
    wake();
  });
  await stream.close();
  assert.equal(await reading, undefined);

  // Zero lost, zero doubled: every journaled report once, in order.
  assert.deepEqual(reports.map((r) => Number(r.sequence)), journaled.map(([seq]) => seq));
  assert.deepEqual(reports.map((r) => r.execId), journaled.map(([, execId]) => execId));
  // Each order accepted once: at most one NEW, and a market order acked just before the kill may
  // settle on the survivor straight from PENDING_NEW to FILLED (FIX allows it).
  const news = reports.filter((r) => r.ordStatus === 'ORD_STATUS_NEW').map((r) => r.clientOrderId);
  assert.equal(new Set(news).size, news.length);
  const filled = reports.filter((r) => r.ordStatus === 'ORD_STATUS_FILLED').map((r) => r.clientOrderId);
  const accepted = new Set([...news, ...filled]);
  assert.deepEqual([...accepted].sort(), placed.map((o) => o.spec.clientOrderId).sort());
  for (const order of placed.filter((_, i) => i % 2 === 0)) assert.ok(news.includes(order.spec.clientOrderId));
  const open = new Set((await fleet.command('open acct0')).open);
  for (const order of placed.filter((_, i) => i % 2 === 0)) assert.ok(open.has(order.venueOrderId));
  assert.equal(open.size, 4);
  await client.logout();
});

test('an OrderEntry stream of a fleet client follows its session when its gateway is killed -9', { timeout: 240000 }, async (t) => {
  const fleet = await Fleet.start(t);
  const { gateways, tokens, serving } = fleet.info;
  const owner = serving.acct1;
  const other = Object.keys(gateways).find((name) => name !== owner);
  const client = new KrakenGwClient([gateways[owner], gateways[other]], tokens.acct1, { maxMoves: 200 });
  t.after(() => client.close());
  assert.equal((await client.logon()).instance, owner);

  const entry = client.orderEntry();
  const placed = [];
  for (let i = 0; i < 6; i += 1) {
    if (i === 3) await fleet.command(`kill ${owner}`); // kill -9: the stream breaks mid-trading
    const input = { symbol: 'BTC/USD', side: 'buy', qty: '0.01' };
    if (i % 2 === 0) input.price = RESTING_PRICE;
    placed.push(await entry.submitOrder(input));
  }
  entry.close();
  assert.equal((await client.getLimits()).instance, other);

  // Every order reached the venue once: the resting ones rest there once each.
  const open = (await fleet.command('open acct1')).open;
  const resting = placed.filter((_, i) => i % 2 === 0).map((o) => o.venueOrderId);
  for (const txid of resting) assert.equal(open.filter((id) => id === txid).length, 1);
  assert.equal(open.length, resting.length);
  const ids = placed.map((o) => o.spec.clientOrderId);
  assert.equal(new Set(ids).size, ids.length);
  await client.logout();
});
