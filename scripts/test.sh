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
[ -d node_modules/typescript ] || npm ci --no-audit --no-fund
npm run build
# Test files run one at a time: the end-to-end tests own network namespaces and a mail server.
exec node --test --test-concurrency=1 --test-reporter=spec dist/test/
