#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need, builds, runs every test.
# As root it installs missing Debian packages (scripts/install-deps.sh); tests that need root or
# network namespaces say SKIPPED loudly when they cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  scripts/install-deps.sh all
else
  echo "test.sh: not root: Debian packages are not installed and root-only tests will be SKIPPED" >&2
fi
# node_modules from before a dependency was added (the checks' tools, ioredis) is installed afresh too.
missing=0
for m in typescript eslint typescript-eslint prettier dependency-cruiser ioredis prom-client; do [ -d "node_modules/$m" ] || missing=1; done
# The optional live-capture module `cap` builds only where libpcap's headers are: after `npm install`
# on a fresh machine they arrive with the line above, so install once more to build it (its tests
# would otherwise be SKIPPED, loudly, on every run).
if [ "$missing" = 1 ]; then
  npm ci --no-audit --no-fund
elif [ -e /usr/include/pcap/pcap.h ] && ! node -e "require('cap')" 2>/dev/null; then
  echo "test.sh: building the optional module cap now that libpcap-dev is here" >&2
  npm ci --no-audit --no-fund || echo "test.sh: cap could not be built; its tests will say SKIPPED" >&2
fi
# Rooms and cycles, lint with type information, formatting: before the tests, so either fails the run.
scripts/check.sh
npm run build
# Test files run one at a time: the end-to-end tests own network namespaces and a mail server.
exec node --test --test-concurrency=1 --test-reporter=spec dist/test/
