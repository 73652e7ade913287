#!/usr/bin/env bash
# End-to-end scenario for `smtpstrike watch --tarpit` (issue 14, must-have 6) with real parts: Postfix +
# Dovecot SASL in a server namespace, swaks in a client namespace, live capture, nftables in the server
# namespace redirecting blocked addresses' new connections to the decoy server. Needs root. Prints one
# line per check:   CHECK <name> ok|FAIL <detail>
# test/watch-tarpit-e2e.test.ts runs it and asserts them.
set -euo pipefail
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
RATE=40            # the tarpit's pace, bytes per second
TARPIT_PORT=2626
SECRET='Tarpit-Secret-77'
SECRET_B64=$(printf %s "$SECRET" | base64)
# --tarpit-per-address 1100: the 1,000 held connections below all come from one address.
WATCH_ARGS=(--whitelist 10.200.0.4/32 --state-file "$STATE" --stats-interval 5 --tarpit "$TARPIT_PORT" --tarpit-rate "$RATE"
  --tarpit-decoy-rate 1 --tarpit-per-address 1100 --tarpit-lifetime 300)

fail_auth() { # fail_auth IP N
  local ip=$1 n=$2 i
  for ((i = 0; i < n; i++)); do
    tb_swaks --port 587 --local-interface "$ip" --auth LOGIN --auth-user alice --auth-password "wrong$i" --quit-after AUTH >/dev/null 2>&1 || true
  done
}

# server_bytes FILE: the bytes of the server's lines in a swaks transcript (each line + CRLF).
server_bytes() { python3 -c 'import sys,re; print(sum(len(m.group(1))+2 for l in open(sys.argv[1]) for m in [re.match(r"^<(?:-|\*\*) +(.*)$", l.rstrip("\n"))] if m))' "$1"; }
# at_least ELAPSED BYTES: the session took at least BYTES / RATE seconds (a lower bound only, as pacing sets).
at_least() { python3 -c "import sys; sys.exit(0 if float('$1') >= int('$2') / $RATE * 0.95 else 1)"; }
now() { date +%s.%N; }

start_watch
wait_log '"event":"tarpit_listening"'
CHILD=$(grep -o '"event":"tarpit_listening","pid":[0-9]*' "$LOG" | tail -1 | grep -o '[0-9]*$')
[ -n "$CHILD" ]; check tarpit_listening $? "the tarpit child is listening (pid ${CHILD:-none})"
[ "$(ps -o user= -p "${CHILD:-0}" 2>/dev/null | tr -d ' ')" = nobody ]; check tarpit_child_nobody $? "the tarpit child runs as nobody"
# Polled: the blocker makes its table just after the start line (a loaded machine takes its time).
redirected() { local chain; chain=$(tb_srv nft list chain inet smtpstrike prerouting 2>/dev/null) && grep -q "redirect to :$TARPIT_PORT" <<<"$chain"; }
for ((i = 0; i < 300; i++)); do redirected && break; sleep 0.1; done
redirected; check redirect_rule $? "nft prerouting redirects to :$TARPIT_PORT"

# 1. three failures block the attacker; its next connection lands in the tarpit, not at Postfix
fail_auth 10.200.0.2 3
wait_in_set 10.200.0.2; check attacker_in_set $? "10.200.0.2 in blocked4 after its 3rd failure"
T=$TB_DIR/tarpit-plain.txt
t0=$(now)
tb_swaks --port 587 --local-interface 10.200.0.2 --from bot@example.org --to alice@example.test --quit-after RCPT >"$T" 2>&1
t1=$(now)
elapsed=$(python3 -c "print(round($t1 - $t0, 2))")
bytes=$(server_bytes "$T")
grep -q '^<\*\* *451' "$T" && ! grep -q Postfix "$T"; check tarpit_451 $? "the blocked client's MAIL got 451 from the tarpit, no Postfix banner"
at_least "$elapsed" "$bytes"; check tarpit_slow $? "the session took ${elapsed} s for ${bytes} bytes at $RATE B/s"

# 2. a decoy 235 (--tarpit-decoy-rate 1), then 451 at MAIL: nothing is ever accepted
T=$TB_DIR/tarpit-auth.txt
t0=$(now)
tb_swaks --port 587 --local-interface 10.200.0.2 --auth LOGIN --auth-user alice --auth-password "$SECRET" --from bot@example.org --to alice@example.test >"$T" 2>&1
t1=$(now)
elapsed=$(python3 -c "print(round($t1 - $t0, 2))")
bytes=$(server_bytes "$T")
grep -q '^<- *235' "$T"; check decoy_235 $? "AUTH got the decoy 235"
python3 - "$T" <<'EOF'
import sys
lines = [l.rstrip('\n') for l in open(sys.argv[1])]
mail = next((i for i, l in enumerate(lines) if l.lstrip(' ~>-').startswith('MAIL FROM')), None)
sys.exit(0 if mail is not None and any(l.startswith('<** ') and ' 451' in ' ' + l[4:] for l in lines[mail + 1:mail + 3]) else 1)
EOF
check decoy_then_451 $? "MAIL after the decoy 235 got 451"
at_least "$elapsed" "$bytes"; check decoy_slow $? "the session took ${elapsed} s for ${bytes} bytes at $RATE B/s"
wait_log '"event":"tarpit_session".*"client":"10.200.0.2".*"decoy_successes":1'; check session_logged $? "a tarpit_session line with the decoy success"
grep '"event":"tarpit_session"' "$LOG" | grep '"decoy_successes":1' | grep -q '"usernames":\["alice"\]'; check usernames_logged $? "the username tried is recorded"
! grep -rqF -e "$SECRET" -e "$SECRET_B64" "$LOG" "$TB_DIR/watch.stderr" "$STATE" 2>/dev/null; check password_nowhere $? "the password (plain or base64) is in no log or state"
[ "$(count_log '"event":"auth_success".*"client":"10.200.0.2"')" = 0 ]; check decoy_not_counted $? "watch logs no auth_success for the decoy's 235"

# 3. a legitimate client and the whitelisted one are served by Postfix as before
T=$TB_DIR/legit.txt
tb_swaks --port 587 --local-interface 10.200.0.5 --auth LOGIN --auth-user alice --auth-password secret --quit-after AUTH >"$T" 2>&1
grep -q Postfix "$T" && grep -q '^<- *235' "$T"; check legit_postfix $? "10.200.0.5 logs in at Postfix"
fail_auth 10.200.0.4 4
T=$TB_DIR/white.txt
tb_swaks --port 587 --local-interface 10.200.0.4 --quit-after EHLO >"$T" 2>&1
grep -q Postfix "$T"; check whitelisted_postfix $? "whitelisted 10.200.0.4 still reaches Postfix after 4 failures"
in_set 10.200.0.4; r=$?; check whitelisted_not_in_set $((r != 1)) "10.200.0.4 never in the set"

# 4. 1,000 concurrent tarpit connections from the test namespace, held within the stated memory (100 MiB)
tb_cli python3 - <<'EOF' &
import resource, socket, sys, time, os
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
socks = []
for i in range(1000):
    s = socket.socket()
    s.bind(('10.200.0.2', 0))
    s.connect((os.environ.get('TB_SRV_IP', '10.200.0.1'), 587))
    socks.append(s)
time.sleep(40)
EOF
HOLD=$!
held() { tb_srv ss -Htn state established "( sport = :$TARPIT_PORT )" | wc -l; }
for ((i = 0; i < 300; i++)); do [ "$(held)" -ge 1000 ] && break; sleep 0.1; done
n=$(held)
[ "$n" -ge 1000 ]; check thousand_held $? "$n connections held by the tarpit"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$CHILD/status" 2>/dev/null)
[ -n "$rss" ] && [ "$rss" -le $((100 * 1024)) ]; check thousand_rss $? "the tarpit child's RSS with them: ${rss:-?} KiB (bound 102400)"
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null
grep -q '"event":"tarpit_child_exit"' "$LOG"; r=$?; check child_never_died $((r == 0)) "the tarpit child did not die"
stop_watch
tb_srv nft list table inet smtpstrike >/dev/null 2>&1; check table_kept_after_stop $? "blocks (and the redirect) outlive watch, as before"
exit 0
