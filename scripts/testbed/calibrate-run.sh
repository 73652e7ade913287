#!/usr/bin/env bash
# scripts/testbed/calibrate-run.sh OUTDIR - `smtpstrike calibrate` against the TLS-only test-bed server
# (tb_mail_up 0 tls: Postfix 587 with smtpd_tls_security_level = encrypt, Dovecot SASL), three runs:
#   server-ns  : from the server's own namespace (10.200.0.1 is a local address there: accepted)
#   client-ns  : from the client namespace without --yes-this-is-my-server (must be refused)
#   client-yes : from the client namespace with --yes-this-is-my-server
# Each run leaves OUTDIR/NAME.{stdout,stderr,rc} and, when it saved one, OUTDIR/NAME.json.
# Needs root (network namespaces) and a built tree (dist/src/cli.js). test/tls-calibrate.test.ts runs it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:?usage: calibrate-run.sh OUTDIR}
CLI=$ROOT/dist/src/cli.js
[ -f "$CLI" ] || { echo "calibrate-run: build first (npx tsc -p .): no $CLI" >&2; exit 1; }

# shellcheck source=lib.sh
. "$ROOT/scripts/testbed/lib.sh"
tb_script_setup calibrate-run

tb_up
tb_mail_up 0 tls
run() {   # run NAME NS ARGS...
  local name=$1 ns=$2 rc=0
  shift 2
  ip netns exec "$ns" timeout 60 node "$CLI" calibrate "$@" > "$OUT/$name.stdout" 2> "$OUT/$name.stderr" || rc=$?
  echo "$rc" > "$OUT/$name.rc"
  say "$name: exit $rc"
}
run server-ns "$TB_SRV_NS" "$TB_SRV_IP:587" --out "$OUT/server-ns.json"
run client-ns "$TB_CLI_NS" "$TB_SRV_IP:587" --out "$OUT/client-ns.json"
run client-yes "$TB_CLI_NS" "$TB_SRV_IP:587" --yes-this-is-my-server --out "$OUT/client-yes.json"
grep -h 'authentication failed' "$TB_DIR/logs/postfix.log" > "$OUT/postfix-auth.log" || true
