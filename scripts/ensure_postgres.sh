#!/bin/sh
# The PostgreSQL tests start their own server from the binaries of Debian's `postgresql`
# package (initdb, pg_ctl). Install it when they are missing; do nothing when present.
set -eu
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "installing PostgreSQL (apt-get install postgresql) for the journal and fleet tests"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet: update only if the install cannot find it.
$SUDO apt-get install -y -q postgresql >/dev/null 2>&1 || {
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q postgresql
}
ls /usr/lib/postgresql/*/bin/initdb >/dev/null
