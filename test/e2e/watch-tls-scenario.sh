#!/usr/bin/env bash
# End-to-end scenario for `smtpstrike watch` on a TLS-only server (issue 10): Postfix + Dovecot with
# AUTH only after STARTTLS in a server namespace, scripts/testbed/tls-client.py in the client
# namespace, live capture, blocks in nftables inside the server namespace. Nothing is readable on the
# wire: every outcome watch acts on is inferred from TLS record sizes and timing. Needs root.
# Prints one line per check:  CHECK <name> ok|FAIL <detail>   (test/watch-e2e.test.ts asserts them)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=watch-lib.sh
. "$ROOT/test/e2e/watch-lib.sh"

tb_up >/dev/null
tb_mail_up 0 tls >/dev/null
set +e
LOG=$TB_DIR/watch.log
: > "$TB_DIR/empty.yaml"
WATCH_ARGS=()

# tls_session IP PORT STEPS...: one STARTTLS session (TLS 1.3) with the given tls-client.py steps;
# prints the outcomes the client read (e.g. 535,535,535).
tls_session() {
  local ip=$1 port=$2 out
  shift 2
  out=$(tb_cli timeout 60 python3 "$ROOT/scripts/testbed/tls-client.py" --server "$TB_SRV_IP" --port "$port" --src "$ip" "$@" 2>/dev/null | tail -n 1)
  python3 -c 'import json,sys; print(",".join(map(str, json.loads(sys.argv[1])["summary"]["outcomes"])))' "$out" 2>/dev/null
}

# --- 1. --no-inferred-strikes: three failures inside TLS are logged as inferred, nothing strikes.
start_watch --no-inferred-strikes --state-file "$TB_DIR/state-off.json"
got=$(tls_session 10.200.0.3 587 --step login:alice:wrong1 --step login:alice:wrong2 --step login:alice:wrong3 --step quit)
check off_client_saw "$([ "$got" = 535,535,535 ]; echo $?)" "client read: $got"
wait_log '"event":"auth_failure".*"client":"10\.200\.0\.3".*"inferred":true' 2
n=$(count_log '"event":"auth_failure".*"client":"10\.200\.0\.3".*"inferred":true')
check off_inferred_logged "$([ "$n" = 3 ]; echo $?)" "inferred auth_failure lines: $n"
n=$(count_log '"event":"strike".*"client":"10\.200\.0\.3"')
check off_no_strike "$([ "$n" = 0 ]; echo $?)" "strike lines: $n"
in_set 10.200.0.3; r=$?
check off_not_in_set "$([ $r != 0 ]; echo $?)" "in_set rc=$r"
stop_watch

# --- 2. Default: three failures inside TLS strike (LOG prefix marked inferred) and block; a login
# inside TLS is an inferred success and blocks nothing.
start_watch --state-file "$TB_DIR/state-on.json"
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
