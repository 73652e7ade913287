#!/usr/bin/env bash
# scripts/testbed/measure-log-delay.sh [OUTDIR] - how far apart the packet carrying an AUTH outcome and
# the Postfix log line of the same attempt are, in the test bed (real Postfix + Dovecot in namespaces).
# The sensor merge (src/strikes/sensor-merge.ts) holds an attempt for this long to recognise the other
# sensor's sighting of it; native-notes/sensor-merge.md has the figures.
#
# Three runs, one swaks at a time, each AUTH LOGIN on 587, captured with tcpdump on the server's veth
# while log-stamper.py follows $TB_DIR/logs/postfix.log (Postfix's own maillog_file) and writes the
# wall-clock arrival time of every line:
#   plain   - AUTH in the clear: 30 failures, 10 successes (5 AUTH-then-QUIT, 5 with a mail)
#   tls     - the same inside STARTTLS (TLS-only Postfix); outcomes from the record-size inference
#   penalty - Dovecot's default auth penalty: 10 back-to-back failures, the later ones answered 454
# The captures go through `smtpstrike replay --json` (packet times), then measure-log-delay.py pairs them
# with the log lines and prints min/median/p99/max of (log time - packet time), both the arrival time
# and the line's own seconds stamp. Needs root and a built tree (npx tsc -p .).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-$(mktemp -d /tmp/measure-log-delay.XXXXXX)}
mkdir -p "$OUT"
export TB_PREFIX=${TB_PREFIX:-mld$$}
export TB_NET=${TB_NET:-10.217.0}
# shellcheck source=lib.sh
. "$HERE/lib.sh"
STAMPER_PID=
stop_stamper() {
  if [ -n "$STAMPER_PID" ]; then kill -TERM "$STAMPER_PID" 2>/dev/null || true; wait "$STAMPER_PID" 2>/dev/null || true; fi
  STAMPER_PID=
}
cleanup() { local rc=$?; stop_stamper; tb_down; exit $rc; }
[ "$(id -u)" = 0 ] || { echo "measure-log-delay: must run as root" >&2; exit 1; }
[ -s "$ROOT/dist/src/cli.js" ] || { echo "measure-log-delay: build first (npx tsc -p .)" >&2; exit 1; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tb_up

SW=(--port 587 --auth LOGIN --local-interface "$TB_NET.3")
run_mode() { # MODE PENALTY SERVERMODE
  local mode=$1 penalty=$2 smode=$3 i tls=()
  [ "$smode" = tls ] && tls=(--tls)
  tb_mail_up "$penalty" "$smode"
  python3 "$HERE/log-stamper.py" "$TB_DIR/logs/postfix.log" "$OUT/$mode.stamped" &
  STAMPER_PID=$!
  tb_capture_start "$TB_SRV_IF" "$OUT/$mode.pcap" 'tcp port 587'
  if [ "$mode" = penalty ]; then
    for ((i = 1; i <= 10; i++)); do
      tb_swaks "${SW[@]}" "${tls[@]}" --auth-user alice --auth-password "wrong$i" --quit-after AUTH >/dev/null 2>&1 || true
    done
  else
    for ((i = 1; i <= 40; i++)); do
      if ((i % 8 == 4)); then
        tb_swaks "${SW[@]}" "${tls[@]}" --auth-user alice --auth-password secret --quit-after AUTH >/dev/null 2>&1 || true
      elif ((i % 8 == 0)); then
        tb_swaks "${SW[@]}" "${tls[@]}" --auth-user alice --auth-password secret --from alice@mail.example.test --to alice@mail.example.test >/dev/null 2>&1 || true
      else
        tb_swaks "${SW[@]}" "${tls[@]}" --auth-user alice --auth-password "wrong$i" --quit-after AUTH >/dev/null 2>&1 || true
      fi
    done
  fi
  sleep 1 # the last log line reaches the stamper
  tb_capture_stop
  stop_stamper
  tb_mail_down
  node "$ROOT/dist/src/cli.js" replay --json --no-progress --ports 587 "$OUT/$mode.pcap" > "$OUT/$mode.events.jsonl"
}
run_mode plain 0 plain
run_mode tls 0 tls
run_mode penalty 1 plain
python3 "$HERE/measure-log-delay.py" "$OUT" | tee "$OUT/result.txt"
echo "measure-log-delay: files in $OUT" >&2
