#!/usr/bin/env bash
# Writes ./secrets/ for docker-compose.yml next to this script: each account's simulator key and
# secret (from sim-accounts.toml), a random session token per account and a random PostgreSQL
# password, then owner-only for the gateway's uid (10001; needs sudo unless run as root).
# Prints the session tokens (what clients log on with).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$here/secrets"
python3 - "$here" <<'PY'
import secrets, sys, tomllib
from pathlib import Path
here = Path(sys.argv[1])
out = here / "secrets"
accounts = tomllib.loads((here / "sim-accounts.toml").read_text())["accounts"]
(out / "pg_password").write_text(secrets.token_urlsafe(24))
for account in accounts:
    name, key = account["name"], account["keys"][0]
    (out / f"{name}_key").write_text(key["key"])
    (out / f"{name}_secret").write_text(key["secret"])
    token = secrets.token_urlsafe(32)
    (out / f"{name}_token").write_text(token)
    print(f"session {name}: token {token}")
PY
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
$sudo chown 10001:10001 "$here"/secrets/*
$sudo chmod 400 "$here"/secrets/*
