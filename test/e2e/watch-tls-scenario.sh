#!/usr/bin/env bash
# End-to-end scenario for `smtpstrike watch` on a TLS-only server (issue 10): Postfix + Dovecot with
# AUTH only after STARTTLS in a server namespace, scripts/testbed/tls-client.py in the client
# namespace, live capture, blocks in nftables inside the server namespace. Nothing is readable on the
# wire: every outcome watch acts on is inferred from TLS record sizes and timing. Needs root.
# Prints one line per check:  CHECK <name> ok|FAIL <detail>   (test/watch-e2e.test.ts asserts them)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
"$ROOT/scripts/install-deps.sh" testbed >/dev/null
# shellcheck source=../../scripts/testbed/lib.sh
. "$ROOT/scripts/testbed/lib.sh"

WATCH_PID=
stop_watch() {
  if [ -n "$WATCH_PID" ]; then
    kill -TERM "$WATCH_PID" 2>/dev/null || true
    _tb_wait_gone 10 "$WATCH_PID" || kill -KILL "$WATCH_PID" 2>/dev/null || true
    WATCH_PID=
  fi
}
cleanup() {
  local rc=$?
  trap - EXIT
  stop_watch
  tb_down
  exit $rc
}
trap cleanup EXIT

check() { if [ "$2" = 0 ]; then echo "CHECK $1 ok $3"; else echo "CHECK $1 FAIL $3"; fi; }

tb_up >/dev/null
tb_mail_up 0 tls >/dev/null
set +e
LOG=$TB_DIR/watch.log
: > "$TB_DIR/empty.yaml"

starts() { local n; n=$(grep -c '"event":"start"' "$LOG" 2>/dev/null); echo "${n:-0}"; }
start_watch() { # extra watch options...
  local before i
  before=$(starts)
  ip netns exec "$TB_SRV_NS" node "$ROOT/dist/src/cli.js" watch --config "$TB_DIR/empty.yaml" -i "$TB_SRV_IF" \
    --state-file "$TB_DIR/state-$before.json" --log-file "$LOG" "$@" 2>>"$TB_DIR/watch.stderr" &
  WATCH_PID=$!
  for ((i = 0; i < 150; i++)); do
    [ "$(starts)" -gt "$before" ] && break
    _tb_alive "$WATCH_PID" || { echo "watch died: $(tail -5 "$TB_DIR/watch.stderr")" >&2; exit 1; }
    sleep 0.1
  done
  [ "$(starts)" -gt "$before" ] || { echo "watch did not start: $(tail -5 "$TB_DIR/watch.stderr")" >&2; exit 1; }
  sleep 0.5 # capture running
}
# tls_session IP PORT STEPS...: one STARTTLS session (TLS 1.3) with the given tls-client.py steps;
# prints the outcomes the client read (e.g. 535,535,535).
tls_session() {
  local ip=$1 port=$2 out
  shift 2
  out=$(tb_cli timeout 60 python3 "$ROOT/scripts/testbed/tls-client.py" --server "$TB_SRV_IP" --port "$port" --src "$ip" "$@" 2>/dev/null | tail -n 1)
  python3 -c 'import json,sys; print(",".join(map(str, json.loads(sys.argv[1])["summary"]["outcomes"])))' "$out" 2>/dev/null
}
in_set() {
  local set
  set=$(tb_srv nft list set inet smtpstrike blocked4 2>/dev/null) || return 2
  grep -qw "$1" <<<"$set"
}
wait_in_set() { local i; for ((i = 0; i < 100; i++)); do in_set "$1" && return 0; sleep 0.1; done; return 1; }
# wait_log REGEX N: until the watch log has at least N lines matching, at most 15 s.
wait_log() { local i n; for ((i = 0; i < 150; i++)); do n=$(grep -cE "$1" "$LOG" 2>/dev/null); [ "${n:-0}" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }
count_log() { local n; n=$(grep -cE "$1" "$LOG" 2>/dev/null); echo "${n:-0}"; }
connects_from() { # connects_from IP: an EHLO-only session from IP gets the banner
  tb_swaks --port 587 --local-interface "$1" --quit-after EHLO >/dev/null 2>&1
}

# --- 1. --no-inferred-strikes: three failures inside TLS are logged as inferred, nothing strikes.
start_watch --no-inferred-strikes
got=$(tls_session 10.200.0.3 587 --step login:alice:wrong1 --step login:alice:wrong2 --step login:alice:wrong3 --step quit)
check off_client_saw "$([ "$got" = 535,535,535 ]; echo $?)" "client read: $got"
wait_log '"event":"auth_failure".*"client":"10\.200\.0\.3".*"inferred":true' 3
n=$(count_log '"event":"auth_failure".*"client":"10\.200\.0\.3".*"inferred":true')
check off_inferred_logged "$([ "$n" = 3 ]; echo $?)" "inferred auth_failure lines: $n"
n=$(count_log '"event":"strike".*"client":"10\.200\.0\.3"')
check off_no_strike "$([ "$n" = 0 ]; echo $?)" "strike lines: $n"
in_set 10.200.0.3; r=$?
check off_not_in_set "$([ $r != 0 ]; echo $?)" "in_set rc=$r"
stop_watch

# --- 2. Default: three failures inside TLS strike (LOG prefix marked inferred) and block; a login
# inside TLS is an inferred success and blocks nothing.
start_watch
got=$(tls_session 10.200.0.4 25 --step login:alice:secret --step quit)
check ok_client_saw "$([ "$got" = 235 ]; echo $?)" "client read: $got"
got=$(tls_session 10.200.0.2 587 --step login:alice:wrong1 --step plain:alice:wrong2 --step login:bob:wrong3 --step quit)
check attack_client_saw "$([ "$got" = 535,535,535 ]; echo $?)" "client read: $got"
wait_in_set 10.200.0.2; r=$?
check attacker_in_set "$r" "10.200.0.2 in the nft set after 3 inferred failures"
n=$(count_log 'SMTP_AUTH_FAIL: Strike 3 \(TLS inferred\): .*SRC=10\.200\.0\.1 DST=10\.200\.0\.2 ')
check strike_logged_inferred "$([ "$n" = 1 ]; echo $?)" "Strike 3 (TLS inferred) lines: $n"
n=$(count_log '"event":"auth_success".*"client":"10\.200\.0\.4".*"inferred":true')
check success_inferred "$([ "$n" = 1 ]; echo $?)" "inferred auth_success lines for 10.200.0.4: $n"
in_set 10.200.0.4; r=$?
check success_not_in_set "$([ $r != 0 ]; echo $?)" "in_set rc=$r"
connects_from 10.200.0.2; r=$?
check attacker_refused "$([ $r != 0 ]; echo $?)" "EHLO session from the blocked address: rc=$r"
connects_from 10.200.0.4; r=$?
check success_connects "$r" "EHLO session from the address that logged in: rc=$r"
stop_watch
n=$(grep -c '"level":[56]0' "$LOG")
check clean_stop "$([ "$n" = 0 ]; echo $?)" "error/fatal log lines: $n"
n=$(count_log '"event":"stop"')
check stopped "$([ "$n" = 2 ]; echo $?)" "stop lines: $n (two runs)"
