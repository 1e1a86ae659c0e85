#!/usr/bin/env bash
# The console's browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright;
# Playwright never downloads a browser of its own. Install Chromium from apt when it is missing
# (idempotent; needs root, as on the project's Debian machines and CI).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
