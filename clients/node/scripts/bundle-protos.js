'use strict';
// prepack: copy the contract (../../proto: krakengw/v1 and the vendored google/rpc) into ./proto,
// so a packed tarball works outside this repository; postpack (--clean) removes the copy again.
const fs = require('node:fs');
const path = require('node:path');

const here = path.resolve(__dirname, '..');
const target = path.join(here, 'proto');
fs.rmSync(target, { recursive: true, force: true });
if (!process.argv.includes('--clean')) {
  const source = path.resolve(here, '..', '..', 'proto');
  fs.cpSync(path.join(source, 'krakengw'), path.join(target, 'krakengw'), { recursive: true });
  fs.cpSync(path.join(source, 'third_party'), path.join(target, 'third_party'), { recursive: true });
}
