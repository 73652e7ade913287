#!/usr/bin/env bash
# End-to-end scenario for `smtpstrike watch` with real parts: Postfix + Dovecot SASL in a server
# namespace, swaks clients in a client namespace, live capture with tcpdump, blocks in nftables
# inside the server namespace. Needs root. Prints one line per check:
#   CHECK <name> ok|FAIL <detail>
# test/watch-e2e.test.ts runs it (once with the nft blocker, once with --dry-run) and asserts them.
# Usage: test/e2e/watch-scenario.sh nft|dry-run
set -euo pipefail
MODE=${1:?usage: watch-scenario.sh nft|dry-run}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=watch-lib.sh
. "$ROOT/test/e2e/watch-lib.sh"

tb_up >/dev/null
tb_mail_up 0 >/dev/null
set +e # from here on a failing probe is a FAIL line, not the end of the script
STATE=$TB_DIR/state.json
LOG=$TB_DIR/watch.log
: > "$TB_DIR/empty.yaml"
WATCH_ARGS=(--whitelist 10.200.0.4/32 --state-file "$STATE" --stats-interval 5)
[ "$MODE" = dry-run ] && WATCH_ARGS+=(--dry-run)

fail_auth() { # fail_auth IP N [PORT]
  local ip=$1 n=$2 port=${3:-587} i
  for ((i = 0; i < n; i++)); do
    tb_swaks --port "$port" --local-interface "$ip" --auth LOGIN --auth-user alice --auth-password "wrong$i" --quit-after AUTH >/dev/null 2>&1 || true
  done
}

# connects IP PORT: 0 when a TCP connection from IP is accepted (banner read), 1 when refused.
connects() {
  tb_cli timeout 5 bash -c "exec 3<>/dev/tcp/$TB_SRV_IP/$2" 2>/dev/null && return 0
  return 1
}

# barrier IP: IP fails three times and watch decides to block it. Watch handles packets in capture order,
# so after this everything sent before has been seen: a negative check ("not blocked") made after a
# barrier cannot pass merely because watch had not got to the packets yet, as one after a sleep could.
barrier() { fail_auth "$1" 3; wait_log "\"event\":\"block\".*\"key\":\"$1\""; }

if [ "$MODE" = nft ]; then start_watch --kill-established; else start_watch; fi

# 1. three failures block the attacker at once; its next connection is refused
fail_auth 10.200.0.2 3
if [ "$MODE" = nft ]; then
  wait_in_set 10.200.0.2; check attacker_in_set $? "10.200.0.2 in blocked4 after its 3rd failure"
  connects_from 10.200.0.2; r=$?; check attacker_refused $((r == 0)) "4th connection from 10.200.0.2 refused (swaks rc $r)"
else
  wait_log '"event":"block".*"key":"10.200.0.2"'; check dry_run_logged $? "dry-run logs the block it would apply"
  connects_from 10.200.0.2; r=$?; check attacker_not_refused_dry $r "dry-run: 10.200.0.2 still connects"
  tb_srv nft list table inet smtpstrike >/dev/null 2>&1; r=$?; check dry_run_no_table $((r == 0)) "dry-run creates no nft table"
fi
# 1b. --kill-established: a session that 10.200.0.8 holds open is ended on the server when it gets blocked
if [ "$MODE" = nft ]; then
  tb_cli python3 -c "import socket,time; s=socket.create_connection(('$TB_SRV_IP',587), source_address=('10.200.0.8',0)); s.recv(200); time.sleep(120)" &
  HOLD_PID=$!
  held() { tb_srv ss -Htn state established '( sport = :587 )' dst 10.200.0.8 | grep -c . ; }
  # Polled, not slept for: under load python may take seconds to start and connect.
  for ((i = 0; i < 300; i++)); do [ "$(held)" -ge 1 ] && break; sleep 0.1; done
  [ "$(held)" -ge 1 ]; check held_session_open $? "10.200.0.8 holds a session open"
  fail_auth 10.200.0.8 3
  wait_in_set 10.200.0.8
  for ((i = 0; i < 100; i++)); do [ "$(held)" = 0 ] && break; sleep 0.1; done
  [ "$(held)" = 0 ]; check kill_established $? "its open session was ended on the server (ss -K)"
  kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null
fi
# 2. the whitelisted client fails as often and more, and is never blocked
fail_auth 10.200.0.4 4
barrier 10.200.0.3; check barrier_after_whitelisted $? "10.200.0.3 blocked after the whitelisted client's failures (all seen)"
connects_from 10.200.0.4; check whitelisted_connects $? "whitelisted 10.200.0.4 still connects"
if [ "$MODE" = nft ]; then in_set 10.200.0.4; r=$?; check whitelisted_not_in_set $((r != 1)) "10.200.0.4 never in the set"; fi
# 3. six new connections in 60 s (no AUTH at all) trip the connection rule
for i in 1 2 3 4 5 6; do connects_from 10.200.0.7 || true; done
if [ "$MODE" = nft ]; then
  wait_in_set 10.200.0.7; check conn_rule_in_set $? "10.200.0.7 blocked after 6 connections in 60 s"
  connects_from 10.200.0.7; r=$?; check conn_rule_refused $((r == 0)) "7th connection from 10.200.0.7 refused"
  grep -q '"event":"reject".*SMTP Brute Force Attempt' "$LOG"; check conn_rule_logged $? "log has SMTP Brute Force Attempt"
  grep -q 'SMTP_AUTH_FAIL: Strike 3:' "$LOG"; check strike_logged $? "log has SMTP_AUTH_FAIL: Strike 3"
fi

# 4. kill -9, lose the kernel set too (as after a reboot), restart: the blocks come back from the state file
if [ "$MODE" = nft ]; then
  # the state file is written within a second of a change: wait until it holds 10.200.0.7's block
  for ((i = 0; i < 100; i++)); do grep -q '"block":{[^}]*"key":"10\.200\.0\.7"' "$STATE" 2>/dev/null && break; sleep 0.1; done
  stop_watch KILL
  tb_srv nft flush set inet smtpstrike blocked4
  in_set 10.200.0.2; r=$?; check set_flushed $((r != 1)) "set emptied by hand after kill -9"
  start_watch
  wait_in_set 10.200.0.2; check restored_attacker $? "10.200.0.2 re-applied from the state file after restart"
  wait_in_set 10.200.0.7; check restored_conn $? "10.200.0.7 re-applied from the state file after restart"
  connects_from 10.200.0.2; r=$?; check restored_refused $((r == 0)) "10.200.0.2 still refused after restart"
  # SIGHUP: re-read the config file (here: a whitelist entry) and reopen the log
  printf 'whitelist: [10.200.0.6/32]\n' > "$TB_DIR/empty.yaml"
  reloads=$(grep -c '"event":"reload"' "$LOG")
  kill -HUP "$WATCH_PID"
  wait_log '"event":"reload"' "$reloads"; check sighup_reload $? "SIGHUP reloaded the config"
  fail_auth 10.200.0.6 3
  barrier 10.200.0.9; check barrier_after_sighup $? "10.200.0.9 blocked after 10.200.0.6's failures (all seen)"
  in_set 10.200.0.6; r=$?; check sighup_whitelist $((r != 1)) "10.200.0.6, whitelisted by the reloaded config, is not blocked"
  stop_watch TERM
  in_set 10.200.0.2; check blocks_survive_sigterm $? "SIGTERM removes no block"

  # 5. a block expires after its kernel timeout (short windows for this part)
  rm -f "$STATE"
  tb_srv nft flush set inet smtpstrike blocked4
  start_watch --seconds 4 --block-seconds 4
  fail_auth 10.200.0.5 3
  wait_in_set 10.200.0.5; check short_block_in_set $? "10.200.0.5 blocked with a 4 s timeout"
  for ((i = 0; i < 150; i++)); do in_set 10.200.0.5; [ $? = 1 ] && break; sleep 0.1; done
  in_set 10.200.0.5; r=$?; check block_expired $((r != 1)) "10.200.0.5 left the set after its timeout ($(tb_srv nft list set inet smtpstrike blocked4 | tr -s ' \n' ' '))"
  connects_from 10.200.0.5; check expired_connects $? "10.200.0.5 connects again"

  # 6. the capture dies under watch (its tcpdump killed, by PID): logged fatal, exit 2 so that systemd restarts it
  TD_PID=$(ps -o pid=,comm= --ppid "$WATCH_PID" | awk '$2 == "tcpdump" { print $1; exit }')
  [ -n "$TD_PID" ] && kill -TERM "$TD_PID"
  for ((i = 0; i < 150; i++)); do _tb_alive "$WATCH_PID" || break; sleep 0.1; done # not _tb_wait_gone: it reaps the status
  if _tb_alive "$WATCH_PID"; then rc=running; else wait "$WATCH_PID"; rc=$?; WATCH_PID=; fi
  [ "$rc" = 2 ]; check capture_lost_exit $? "watch exits 2 when its tcpdump ($TD_PID) is killed (got $rc)"
  grep -q '"level":60.*"event":"capture_failed"' "$LOG"; check capture_lost_fatal $? "capture loss logged fatal"
fi
stop_watch TERM
grep -q '"event":"stats"' "$LOG"; check stats_logged $? "capture health logged"
grep -q '"event":"stop"' "$LOG"; check clean_stop $? "clean stop logged"
