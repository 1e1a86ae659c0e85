#!/usr/bin/env bash
# Refresh the operator console's vendored browser libraries from node_modules (versions pinned
# in package.json): Preact (+ hooks) and htm for the UI without a build step, uPlot for the
# charts. The console serves these files itself (no CDN), so it works offline. Each library's
# licence file goes along. Usage: scripts/vendor_console.sh [NODE_MODULES_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
nm="${1:-node_modules}"
out=gateway/console/static/vendor
rm -rf "$out"
mkdir -p "$out"
cp "$nm/preact/dist/preact.module.js" "$out/preact.module.js"
# hooks imports the bare specifier "preact"; browsers need a path (no import map: the console's
# CSP allows no inline script).
sed 's|from"preact"|from"./preact.module.js"|g' "$nm/preact/hooks/dist/hooks.module.js" \
  > "$out/hooks.module.js"
grep -q 'from"./preact.module.js"' "$out/hooks.module.js"
cp "$nm/htm/dist/htm.module.js" "$out/htm.module.js"
cp "$nm/uplot/dist/uPlot.esm.js" "$out/uPlot.esm.js"
cp "$nm/uplot/dist/uPlot.min.css" "$out/uPlot.min.css"
for lib in preact htm uplot; do
  cp "$nm/$lib/LICENSE" "$out/LICENSE.$lib"
done
{
  echo "Vendored by scripts/vendor_console.sh from npm (see package.json devDependencies):"
  for lib in preact htm uplot; do
    node -e "const p=require(require('path').resolve('$nm/$lib/package.json'));console.log('  '+p.name+' '+p.version+' ('+p.license+')')"
  done
} > "$out/VERSIONS"
echo "vendored into $out:"; ls "$out"
