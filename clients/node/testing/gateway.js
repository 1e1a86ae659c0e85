'use strict';
// Test support: the Python gateway (`kraken-gateway serve`, development config: the embedded
// Kraken simulator) as a child process on a free 127.0.0.1 port, restartable on the same port.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const { once } = require('node:events');

// $KRAKENGW_GATEWAY lets a test outside this folder (an installed tarball) point at it.
const GATEWAY = process.env.KRAKENGW_GATEWAY
  || path.resolve(__dirname, '..', '..', '..', '.venv', 'bin', 'kraken-gateway');
const TOKEN = 'node-e2e-token';
// Far below the market: the order rests.
const RESTING_PRICE = '1000';

/** A gateway child process over one data directory; restartable on the same port. */
class Gateway {
  constructor(t) {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'krakengw-node-'));
    this.target = '127.0.0.1:0';
    this.child = null;
    t.after(async () => {
      await this.stop('SIGTERM');
      fs.rmSync(this.dataDir, { recursive: true, force: true });
    });
  }

  async start() {
    const child = spawn(GATEWAY, ['serve', '--listen', this.target, '--data-dir', this.dataDir], {
      env: { ...process.env, KRAKENGW_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`gateway exited with ${code} before listening: ${stderr.slice(-2000)}`);
    });
    // `listening on` comes first; `serving` once the gateway reconciled with the venue and
    // takes new orders.
    const listening = (async () => {
      let target = null;
      for await (const line of readline.createInterface({ input: child.stdout })) {
        const match = /^listening on (\S+)$/.exec(line.trim());
        if (match) target = match[1];
        if (target !== null && line.startsWith('serving ')) return target;
      }
      throw new Error('gateway closed stdout before serving');
    })();
    this.target = await Promise.race([listening, exited]);
    exited.catch(() => {}); // a later exit (stop/kill) is expected
    return this.target;
  }

  async stop(signal) {
    const { child } = this;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await once(child, 'exit');
    }
  }
}

module.exports = { GATEWAY, Gateway, RESTING_PRICE, TOKEN };
