'use strict';
// index.d.ts type-checks a typical use of the client under `tsc --strict` (testing/usage.ts),
// and rejects a number where a decimal string belongs (a @ts-expect-error there).
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

test('the TypeScript declarations describe the client', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const usage = path.join(__dirname, '..', 'testing', 'usage.ts');
  const run = spawnSync(process.execPath, [
    tsc, '--strict', '--noEmit', '--target', 'es2022', '--module', 'commonjs',
    '--moduleResolution', 'node', '--types', 'node', usage,
  ], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
