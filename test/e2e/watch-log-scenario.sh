#!/usr/bin/env bash
# End-to-end scenario for watch's log sensor (issue 11, item 6): a TLS-only Postfix + Dovecot (25 with
# smtpd_tls_auth_only, 587 with encrypt) in a server namespace, scripts/testbed/tls-client.py in the
# client namespace, live capture, blocks in nftables inside the server namespace, and
# `watch --log <Postfix's maillog_file>`. Needs root.
#   a. inference off: three failures inside TLS are blocked by the log alone before a 4th connection;
#   b. inference and log both on: three failures are three strikes, not six;
#   c. one failure, then a login: not blocked;
#   d. `postfix logrotate` (what Postfix documents for its own maillog_file: mv, HUP, gzip) between a
#      failure and two more: nothing lost, blocked;
#   e. watch stopped after 2 failures and started again: 1 more failure is Strike 3; a client with 2
#      failures before the restart and none after is not blocked (the lines were not read twice);
#   f. `smtpstrike report` on the run's capture and Postfix logs names the AUTH-then-QUIT client
#      (failures, a login, QUIT, no mail: auth=1/3) COMPROMISED.
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
PFLOG=$TB_DIR/logs/postfix.log
PCAP=$TB_DIR/run.pcap
: > "$TB_DIR/empty.yaml"
# debug: the log sensor's log_attempt lines are the barriers below.
WATCH_ARGS=(--log "$PFLOG" --log-level debug)
N=$TB_NET
re() { sed 's/\./\\./g' <<<"$1"; } # an address as a regex

tb_capture_start "$TB_SRV_IF" "$PCAP" 'tcp port 25 or tcp port 587' >/dev/null

# tls_session IP PORT STEPS...: one STARTTLS session (TLS 1.3) with the given tls-client.py steps;
# prints the outcomes the client read (e.g. 535,535,535).
tls_session() {
  local ip=$1 port=$2 out
  shift 2
  out=$(tb_cli timeout 60 python3 "$ROOT/scripts/testbed/tls-client.py" --server "$TB_SRV_IP" --port "$port" --src "$ip" "$@" 2>/dev/null | tail -n 1)
  python3 -c 'import json,sys; print(",".join(map(str, json.loads(sys.argv[1])["summary"]["outcomes"])))' "$out" 2>/dev/null
}
# log_attempts IP [OUTCOME]: log_attempt lines of the watch log for IP (debug level).
log_attempts() { count_log "\"event\":\"log_attempt\".*\"client\":\"$(re "$1")\"${2:+.*\"outcome\":\"$2\"}"; }
# wait_attempts IP N [OUTCOME]: until the log sensor has read N outcomes of IP (at most 15 s).
wait_attempts() { local i; for ((i = 0; i < 150; i++)); do [ "$(log_attempts "$1" "${3:-}")" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }
strikes_of() { count_log "\"event\":\"strike\".*\"client\":\"$(re "$1")\""; }
# exit_stats: the sensors object of the last exit stats line.
exit_stats() { grep '"event":"stats","when":"exit"' "$LOG" | tail -n 1 | python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())["sensors"], sort_keys=True))'; }

# --- a, c, f: inference off (--no-inferred-strikes): only the log can strike.
start_watch --no-inferred-strikes --state-file "$TB_DIR/state-a.json"
A=$N.2
ok=0
for i in 1 2 3; do
  got=$(tls_session "$A" 587 --step "login:alice:wrong$i" --step quit)
  [ "$got" = 535 ] && ok=$((ok + 1))
done
check a_client_saw "$([ $ok = 3 ]; echo $?)" "sessions answered 535: $ok of 3"
wait_in_set "$A"; r=$?
check a_in_set "$r" "$A in the nft set after 3 failures inside TLS, inference off"
connects_from "$A"; r=$?
check a_refused "$([ $r != 0 ]; echo $?)" "4th connection (EHLO session) from $A: rc=$r"
n=$(count_log "SMTP_AUTH_FAIL: Strike 3 \\(log\\): .*DST=$(re "$A") ")
check a_strike3_log "$([ "$n" = 1 ]; echo $?)" "Strike 3 (log) lines for $A: $n"
n=$(count_log "\"event\":\"strike\".*\"client\":\"$(re "$A")\".*\"source\":\"log\"")
m=$(strikes_of "$A")
check a_all_from_log "$([ "$n" = 3 ] && [ "$m" = 3 ]; echo $?)" "strike lines for $A: $m, from the log: $n"

# c: one failure, then a login in the same session.
C=$N.3
got=$(tls_session "$C" 587 --step login:alice:wrong --step login:alice:secret --step quit)
check c_client_saw "$([ "$got" = 535,235 ]; echo $?)" "client read: $got"
# f: the AUTH-then-QUIT credential checker: two failures, a login, QUIT, no mail (Postfix: auth=1/3).
F=$N.8
got=$(tls_session "$F" 587 --step login:alice:wrong1 --step plain:alice:wrong2 --step login:alice:secret --step quit)
check f_client_saw "$([ "$got" = 535,535,235 ]; echo $?)" "client read: $got"
wait_attempts "$C" 1 success; r1=$?
wait_attempts "$F" 1 success; r2=$?
check c_log_read "$([ $r1 = 0 ] && [ $r2 = 0 ]; echo $?)" "login lines read for $C and $F: $(log_attempts "$C" success), $(log_attempts "$F" success)"
in_set "$C"; r=$?
n=$(strikes_of "$C")
check c_not_blocked "$([ $r != 0 ] && [ "$n" = 1 ]; echo $?)" "$C: in_set rc=$r, strike lines $n (one failure, then a login)"
in_set "$F"; r=$?
check f_not_blocked "$([ $r != 0 ]; echo $?)" "$F (2 failures, then a login): in_set rc=$r"
stop_watch

# --- b: inference and log both on: three failures are three strikes.
: > "$TB_DIR/b.mark"
start_watch --state-file "$TB_DIR/state-b.json"
B=$N.4
got=$(tls_session "$B" 587 --step login:alice:wrong1 --step login:alice:wrong2 --step login:alice:wrong3 --step quit)
check b_client_saw "$([ "$got" = 535,535,535 ]; echo $?)" "client read: $got"
wait_in_set "$B"; r=$?
check b_in_set "$r" "$B in the nft set"
wait_attempts "$B" 3 failure; r=$?
check b_log_read "$r" "failure lines read for $B: $(log_attempts "$B" failure)"
sleep 2.5 # > the merge's 2 s tolerance: a log sighting that failed to pair would have struck by now
n=$(strikes_of "$B")
s3=$(count_log "SMTP_AUTH_FAIL: Strike 3 .*DST=$(re "$B") ")
check b_three_strikes "$([ "$n" = 3 ] && [ "$s3" = 1 ]; echo $?)" "strike lines for $B: $n (Strike 3 lines: $s3), sources: $(grep "\"event\":\"strike\".*\"client\":\"$(re "$B")\"" "$LOG" | grep -o '"source":"[a-z]*"' | sort | uniq -c | tr -s ' \n' ' ')"
stop_watch
cov=$(exit_stats)
both=$(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); print(c["both"])' "$cov" 2>/dev/null)
lonly=$(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); print(c["log_only"])' "$cov" 2>/dev/null)
check b_coverage "$([ "${both:-0}" -ge 3 ] && [ "${lonly:-9}" = 0 ]; echo $?)" "exit stats sensors: $cov"

# --- d: a rotation between the failures (inference off: the log alone must see all three).
start_watch --no-inferred-strikes --state-file "$TB_DIR/state-d.json"
D=$N.5
got=$(tls_session "$D" 587 --step login:alice:wrong1 --step quit)
wait_attempts "$D" 1 failure
# What Postfix documents for its own maillog_file: `postfix logrotate` (mv to FILE.YYYYMMDD-HHMMSS,
# HUP to master so postlogd reopens, 1 s later gzip). The next two failures come while it runs.
tb_srv postfix -c "$TB_DIR/conf/postfix" logrotate >"$TB_DIR/logrotate.out" 2>&1 &
ROT=$!
got2=$(tls_session "$D" 587 --step login:alice:wrong2 --step login:alice:wrong3 --step quit)
wait "$ROT"; rot=$?
check d_client_saw "$([ "$got,$got2" = 535,535,535 ]; echo $?)" "client read: $got,$got2; postfix logrotate rc=$rot"
fails_re="unknown\\[$(re "$D")\\]: SASL [A-Z]* authentication failed"
old_n=$(zcat "$PFLOG".*.gz 2>/dev/null | grep -cE "$fails_re")
new_n=$(grep -cE "$fails_re" "$PFLOG")
check d_rotated "$([ $rot = 0 ] && [ $((old_n + new_n)) = 3 ]; echo $?)" "$D's failure lines: $old_n in the rotated file, $new_n in the new one; files: $(ls "$TB_DIR/logs" | tr '\n' ' ')"
wait_in_set "$D"; r=$?
check d_in_set "$r" "$D in the nft set (1 failure before the rotation, 2 around it)"
n=$(count_log "SMTP_AUTH_FAIL: Strike 3 \\(log\\): .*DST=$(re "$D") ")
check d_strike3_log "$([ "$n" = 1 ]; echo $?)" "Strike 3 (log) lines for $D: $n"
wait_log '"event":"log_rotated"'; r=$?
check d_follower_rotated "$r" "watch log: $(grep -o '"event":"log_[a-z_]*"' "$LOG" | sort | uniq -c | tr -s ' \n' ' ')"
stop_watch

# --- e: a restart in the middle (inference off).
E=$N.6
G=$N.7
start_watch --no-inferred-strikes --state-file "$TB_DIR/state-e.json"
tls_session "$E" 587 --step login:alice:wrong1 --step login:alice:wrong2 --step quit >/dev/null
tls_session "$G" 587 --step login:bob:wrong1 --step login:bob:wrong2 --step quit >/dev/null
wait_attempts "$E" 2 failure; r1=$?
wait_attempts "$G" 2 failure; r2=$?
check e_before_restart "$([ $r1 = 0 ] && [ $r2 = 0 ] && [ "$(strikes_of "$E")" = 2 ] && [ "$(strikes_of "$G")" = 2 ]; echo $?)" "strikes before the restart: $E $(strikes_of "$E"), $G $(strikes_of "$G")"
stop_watch
before_e=$(strikes_of "$E")
before_g=$(strikes_of "$G")
resumed_before=$(count_log '"event":"log_resumed"')
start_watch --no-inferred-strikes --state-file "$TB_DIR/state-e.json"
n=$(count_log '"event":"log_resumed"')
check e_resumed "$([ "$n" -gt "$resumed_before" ]; echo $?)" "log_resumed lines: $n"
tls_session "$E" 587 --step login:alice:wrong3 --step quit >/dev/null
wait_in_set "$E"; r=$?
check e_blocked "$r" "$E in the nft set after 2 + 1 failures across the restart"
after_e=$(($(strikes_of "$E") - before_e))
n=$(count_log "SMTP_AUTH_FAIL: Strike 3 \\(log\\): .*DST=$(re "$E") ")
m=$(count_log "SMTP_AUTH_FAIL: Strike [4-9].*DST=$(re "$E") ")
check e_exactly_strike3 "$([ "$after_e" = 1 ] && [ "$n" = 1 ] && [ "$m" = 0 ]; echo $?)" "$E after the restart: $after_e strike line(s); Strike 3 (log): $n; Strike 4+: $m"
in_set "$G"; r=$?
after_g=$(($(strikes_of "$G") - before_g))
check e_not_reread "$([ $r != 0 ] && [ "$after_g" = 0 ]; echo $?)" "$G (2 failures before the restart, none after): in_set rc=$r, strikes after the restart: $after_g"
stop_watch

# --- f: report on the run's capture and Postfix logs (the rotated, gzipped one too).
tb_capture_stop "$PCAP" >/dev/null
out=$(node "$ROOT/dist/src/cli.js" report -c /dev/null -g 0 --no-state --json "$PCAP" "$PFLOG".*.gz "$PFLOG" 2>"$TB_DIR/report.stderr")
rr=$?
verdict=$(python3 -c '
import json, sys
doc = json.loads(sys.stdin.read())
ip = sys.argv[1]
rows = [v for v in doc["verdicts"] if v["verdict"] == "COMPROMISED" and any(a["ip"] == ip for a in v.get("addresses", []))]
print("COMPROMISED" if rows else "not COMPROMISED: " + json.dumps([v["verdict"] + ":" + str(v.get("address") or v.get("account")) for v in doc["verdicts"]]))
' "$F" <<<"$out" 2>&1)
check f_report_compromised "$([ $rr = 0 ] && [ "$verdict" = COMPROMISED ]; echo $?)" "report rc=$rr: $F $verdict $(tail -c 300 "$TB_DIR/report.stderr")"

n=$(grep -c '"level":[56]0' "$LOG")
check clean_stop "$([ "$n" = 0 ]; echo $?)" "error/fatal log lines: $n $(grep '"level":[56]0' "$LOG" | head -3)"
n=$(count_log '"event":"stop"')
check stopped "$([ "$n" = 5 ]; echo $?)" "stop lines: $n (five runs)"
