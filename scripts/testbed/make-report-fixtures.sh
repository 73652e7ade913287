#!/usr/bin/env bash
# scripts/testbed/make-report-fixtures.sh - one real test-bed run for `smtpstrike report`: a capture AND the
# server's own logs of the same run, with the expected verdicts, in pcaps/report/.
#
#   sudo scripts/testbed/make-report-fixtures.sh      (needs root: network namespaces, packet capture; ~30 s)
#
# Writes to $OUT (default pcaps/report):
#   report.pcap            tcpdump on the server's veth, 'tcp port 25 or tcp port 587'
#   postfix.log            Postfix's maillog_file, copied while the capture still runs (see phase 3)
#   dovecot.log            Dovecot's log_path (auth_verbose: passdb failures)
#   report.truth.json      what a sniffer sees, per client (pcaps/TRUTH-FORMAT.md; test/captures.test.ts checks it)
#   report.verdicts.json   the verdicts `smtpstrike report` must give (test/report-fixtures.test.ts checks them)
#   README.md              what happened, in order
# Env: OUT=dir, TB_KEEP=1 keeps the scratch dir (swaks transcripts, full logs).
#
# The server runs in the zone UTC+05:30 (TZ='<+0530>-5:30' for Postfix and Dovecot), so its syslog-style
# timestamps (no year, no zone) are 5 h 30 min off the capture's UTC clock: the report must place them.
#
# Scenario (clients 10.200.0.2 .. .9; users alice/secret, bob/hunter2; "admin" does not exist):
#   phase 1 (before the capture starts)  .2  1 AUTH LOGIN failure for alice                      -> logs only
#   phase 2 (captured, logged)           .2  5 AUTH LOGIN failures for alice (port 587)          -> ATTACKED, blocked at the 3rd
#                                        .5  2 AUTH LOGIN failures for alice in cleartext, then STARTTLS + AUTH alice/secret +
#                                            a mail: the success is inside TLS, only Postfix's log shows it -> COMPROMISED (join only)
#                                        .6 .7 .8 .9  2 AUTH PLAIN failures each for "admin" (port 25), interleaved
#                                            -> DISTRIBUTED (4 addresses, each under the 3-failure strike threshold)
#                                        .3  AUTH LOGIN bob/hunter2 + a mail in cleartext (235 visible)
#                                        .4  STARTTLS + AUTH bob/hunter2 + a mail (inside TLS)  -> SUSPECT: bob from 2 addresses in a day
#   phase 3 (captured, not logged)       logs copied; then .2 fails once more (its SYN falls in its block) -> wire only
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELF=scripts/testbed/make-report-fixtures.sh
OUT=${OUT:-$ROOT/pcaps/report}
FILTER='tcp port 25 or tcp port 587'
EHLO=client.example.test
SERVER_TZ='<+0530>-5:30'   # POSIX TZ: UTC+05:30 (no tzdata needed)
SERVER_TZ_OFFSET='+05:30'

# shellcheck source=lib.sh
. "$ROOT/scripts/testbed/lib.sh"
tb_script_setup make-report-fixtures   # root check; on exit tb_down (and "$OUT was not changed" on failure); die/say
"$ROOT/scripts/install-deps.sh" testbed

T0=$(date +%s)

tb_up
STAGE=$TB_DIR/out
TRANS=$TB_DIR/transcripts
mkdir -p "$STAGE" "$TRANS"
# Postfix's master passes TZ to its daemons (import_environment), Dovecot's too: both log in UTC+05:30.
TZ=$SERVER_TZ tb_mail_up 0

# ---------------------------------------------------------------- bookkeeping from swaks transcripts
# Per client IP: AUTH replies seen in cleartext (p535/p235/p454) and inside TLS (t...), while the capture ran.
declare -A CNT USERS
NRUN=0
CAPTURING=0
STEPS=()


# run IP USER EXPECT SWAKS-ARGS...   (EXPECT: the AUTH outcome list swaks must show, e.g. 'p535', 't235')
run() {
  local ip=$1 user=$2 expect=$3 rc=0 f res p535 p235 p454 t535 t235 t454 opaque clear codes k
  shift 3
  NRUN=$((NRUN + 1))
  f=$TRANS/$(printf '%02d' $NRUN)-$ip.txt
  echo "# swaks --server $TB_SRV_IP --local-interface $ip --ehlo $EHLO $*" > "$f"
  tb_swaks --local-interface "$ip" --ehlo "$EHLO" "$@" >> "$f" 2>&1 || rc=$?
  res=$(tb_parse_transcript "$f")
  read -r p535 p235 p454 t535 t235 t454 opaque clear codes <<<"$res"
  [ "$codes" = "$expect" ] || { cat "$f" >&2; die "run $NRUN from $ip: AUTH outcome '$codes' (swaks rc $rc), expected '$expect'"; }
  case $rc in 0 | 28) ;; *) cat "$f" >&2; die "run $NRUN from $ip: swaks exit code $rc" ;; esac
  if [ $CAPTURING = 1 ]; then
    for k in p535 p235 p454 t535 t235 t454 opaque; do CNT[$ip.$k]=$((${CNT[$ip.$k]:-0} + ${!k})); done
    [ "$clear" = 1 ] && [ -n "$user" ] && USERS[$ip]="${USERS[$ip]:-} $user"
  fi
  STEPS+=("$(date -u +%H:%M:%S) $ip ${user:-?}: $codes$([ "$opaque" = 0 ] || echo ' (after STARTTLS)')$([ $CAPTURING = 1 ] || echo ' [not captured]')")
  say "  $ip ${user:-(no auth)}: $codes$([ "$opaque" = 0 ] || echo ' (after STARTTLS)')"
}

fail_login() { run "$1" "$2" p535 --port 587 --auth LOGIN --auth-user "$2" --auth-password "$3" --quit-after AUTH; }
fail_plain() { run "$1" "$2" p535 --port 25 --auth PLAIN --auth-user "$2" --auth-password "$3" --quit-after AUTH; }
mail_as() { # mail_as IP USER PASSWORD EXPECT [swaks args]: authenticated submission of one mail
  local ip=$1 user=$2 pw=$3 expect=$4
  shift 4
  run "$ip" "$user" "$expect" "$@" --auth LOGIN --auth-user "$user" --auth-password "$pw" \
    --from "$user@mail.example.test" --to root@mail.example.test --header "Subject: report fixture"
}

# ---------------------------------------------------------------- phase 1: logged, not captured
say "phase 1: before the capture"
fail_login 10.200.0.2 alice early1
sleep 3

# ---------------------------------------------------------------- phase 2: captured and logged
say "phase 2: captured and logged"
tb_capture_start "$TB_SRV_IF" "$STAGE/report.pcap" "$FILTER"
CAPTURING=1
sleep 1
for i in 1 2 3 4 5; do fail_login 10.200.0.2 alice "wrong$i"; done
fail_login 10.200.0.5 alice summer2024
fail_login 10.200.0.5 alice winter2024
mail_as 10.200.0.5 alice secret t235 --port 587 --tls
for round in 1 2; do
  for ip in 10.200.0.6 10.200.0.7 10.200.0.8 10.200.0.9; do fail_plain "$ip" admin "admin$round"; done
done
mail_as 10.200.0.3 bob hunter2 p235 --port 587
mail_as 10.200.0.4 bob hunter2 t235 --port 25 --tls

# ---------------------------------------------------------------- phase 3: captured, logs already copied
# Wait until both accepted mails are in Postfix's log (it writes them at MAIL/RCPT time), then copy the logs.
for ((i = 0; i < 50; i++)); do
  n=$(grep -c 'sasl_username=bob' "$TB_DIR/logs/postfix.log" 2>/dev/null || true)
  [ "${n:-0}" -ge 2 ] && grep -q 'disconnect from unknown\[10.200.0.4\]' "$TB_DIR/logs/postfix.log" && break
  sleep 0.2
done
sleep 1
cp "$TB_DIR/logs/postfix.log" "$STAGE/postfix.log"
cp "$TB_DIR/logs/dovecot.log" "$STAGE/dovecot.log"
say "phase 3: logs copied ($(wc -l < "$STAGE/postfix.log") + $(wc -l < "$STAGE/dovecot.log") lines); wire only from here"
sleep 3
fail_login 10.200.0.2 alice wrong6
sleep 0.5
tb_capture_stop
CAPTURING=0

# ---------------------------------------------------------------- checks: the logs say what swaks saw
grep -q 'sasl_method=LOGIN, sasl_username=alice' "$STAGE/postfix.log" || die "postfix.log lacks alice's success (inside TLS)"
grep -q 'unknown\[10.200.0.5\], sasl_method=LOGIN, sasl_username=alice' "$STAGE/postfix.log" || die "alice's success is not from 10.200.0.5"
n=$(grep -c 'SASL LOGIN authentication failed.*sasl_username=alice' "$STAGE/postfix.log" || true)
[ "$n" = 8 ] || die "postfix.log: expected 8 LOGIN failures for alice (1 + 5 from .2, 2 from .5), found $n"
n=$(grep -c 'SASL PLAIN authentication failed.*sasl_username=admin' "$STAGE/postfix.log" || true)
[ "$n" = 8 ] || die "postfix.log: expected 8 PLAIN failures for admin, found $n"
grep -q 'unknown\[10.200.0.2\].*wrong6' "$STAGE/postfix.log" && die "the phase-3 failure must not be in the copied log"
# the server's clock is 5:30 ahead of UTC in its logs: the last line is within two minutes of now + 5:30
last=$(tail -n 1 "$STAGE/postfix.log" | cut -c1-15)
TZ=$SERVER_TZ tb_syslog_near "$last" "$(date +%s)" 120 ||
  die "postfix.log timestamps are not in UTC+05:30: last line '$last', expected about '$(TZ=$SERVER_TZ date +'%b %d %H:%M:%S')'"

# tshark cross-check of what the wire shows, per client
declare -A TS=()
while IFS=$'\t' read -r ip codes; do
  for c in ${codes//,/ }; do case $c in 535 | 235 | 454) TS[$ip.$c]=$((${TS[$ip.$c]:-0} + 1)) ;; esac; done
done < <(tshark -n -r "$STAGE/report.pcap" -Y 'smtp.response.code == 535 || smtp.response.code == 235 || smtp.response.code == 454' \
  -T fields -e ip.dst -e smtp.response.code 2>/dev/null)
CLIENTS=(10.200.0.2 10.200.0.3 10.200.0.4 10.200.0.5 10.200.0.6 10.200.0.7 10.200.0.8 10.200.0.9)
for ip in "${CLIENTS[@]}"; do
  for c in 535 235 454; do
    [ "${TS[$ip.$c]:-0}" = "${CNT[$ip.p$c]:-0}" ] || die "tshark sees ${TS[$ip.$c]:-0} x $c for $ip, the transcripts ${CNT[$ip.p$c]:-0}"
  done
done
opq=0
for ip in "${CLIENTS[@]}"; do opq=$((opq + ${CNT[$ip.opaque]:-0})); done
say "tshark agrees with the transcripts; opaque sessions: $opq"

# ---------------------------------------------------------------- truth files
json_str() { local s=$1; s=${s//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
{
  echo "{"
  echo "  \"capture\": \"report.pcap\","
  echo "  \"made_by\": \"$SELF\","
  echo "  \"clients\": {"
  first=1
  for ip in "${CLIENTS[@]}"; do
    f=${CNT[$ip.p535]:-0}; s=${CNT[$ip.p235]:-0}; t=${CNT[$ip.p454]:-0}
    [ $((f + s + t)) -gt 0 ] || continue
    users=''
    for u in $(printf '%s\n' ${USERS[$ip]:-} | sort -u); do users+="${users:+, }$(json_str "$u")"; done
    [ $first = 1 ] || echo ","
    first=0
    printf '    "%s": { "failures": %d, "successes": %d, "tempfails": %d, "users": [%s] }' "$ip" "$f" "$s" "$t" "$users"
  done
  echo
  echo "  },"
  # What happened inside TLS (the swaks transcripts' 't' replies): what the inference must find.
  inside=''
  for ip in "${CLIENTS[@]}"; do
    f=${CNT[$ip.t535]:-0}; s=${CNT[$ip.t235]:-0}; t=${CNT[$ip.t454]:-0}
    [ $((f + s + t)) -gt 0 ] || continue
    inside+="${inside:+, }$(printf '"%s": {"failures": %d, "successes": %d, "tempfails": %d}' "$ip" "$f" "$s" "$t")"
  done
  echo "  \"inside_tls\": {$inside},"
  echo "  \"opaque_flows\": $opq,"
  echo "  \"expect_error\": null,"
  echo "  \"notes\": \"The capture of the report fixture run (README.md beside it): what a sniffer sees. The logs of the same run are postfix.log and dovecot.log; the verdicts are in report.verdicts.json.\""
  echo "}"
} > "$STAGE/report.truth.json"

# The verdicts follow from the scenario (not from timing): see the header of this script.
cat > "$STAGE/report.verdicts.json" <<EOF
{
  "made_by": "$SELF",
  "captures": ["report.pcap"],
  "logs": ["postfix.log", "dovecot.log"],
  "server_tz": "$SERVER_TZ_OFFSET",
  "hitcount": 3,
  "compromised": [
    { "account": "alice", "address": "10.200.0.5", "failures_before": 2, "failures_wire": 2, "failures_log": 2,
      "success_seen": "log", "inside_tls": true }
  ],
  "suspect": [
    { "account": "bob", "addresses": ["10.200.0.3", "10.200.0.4"], "rule": "addresses" }
  ],
  "distributed": [
    { "account": "admin", "addresses": ["10.200.0.6", "10.200.0.7", "10.200.0.8", "10.200.0.9"] }
  ],
  "attacked": [
    { "address": "10.200.0.2", "failures": 7, "wire": 6, "log": 6, "both": 5, "blocked": true },
    { "address": "10.200.0.6", "failures": 2, "wire": 2, "log": 2, "both": 2, "blocked": false },
    { "address": "10.200.0.7", "failures": 2, "wire": 2, "log": 2, "both": 2, "blocked": false },
    { "address": "10.200.0.8", "failures": 2, "wire": 2, "log": 2, "both": 2, "blocked": false },
    { "address": "10.200.0.9", "failures": 2, "wire": 2, "log": 2, "both": 2, "blocked": false }
  ],
  "successes": [
    { "address": "10.200.0.3", "account": "bob", "seen": "both", "inside_tls": false },
    { "address": "10.200.0.4", "account": "bob", "seen": "log", "inside_tls": true },
    { "address": "10.200.0.5", "account": "alice", "seen": "log", "inside_tls": true }
  ],
  "blind_spots": {
    "opaque_sessions": { "10.200.0.4": 1, "10.200.0.5": 1 },
    "logs_only_period_failures": [ { "address": "10.200.0.2", "failures": 1 } ],
    "wire_only_period_failures": [ { "address": "10.200.0.2", "failures": 1 } ],
    "unparseable_lines": 0
  }
}
EOF

{
  echo "# Report fixture: one real run, captured and logged (smtpstrike report)"
  echo
  echo "Generated by \`sudo $SELF\` (which also writes this file). A Postfix + Dovecot SASL server"
  echo "(scripts/testbed/lib.sh; users alice/secret, bob/hunter2) at 10.200.0.1 in a network namespace, swaks"
  echo "clients at 10.200.0.2-9 in another. \`report.pcap\` is tcpdump on the server's veth (\`$FILTER\`);"
  echo "\`postfix.log\` and \`dovecot.log\` are the server's own logs of the same run. The server ran in the zone"
  echo "UTC$SERVER_TZ_OFFSET, so its log timestamps (no year, no zone) are $SERVER_TZ_OFFSET off the capture's UTC clock."
  echo
  echo "\`report.truth.json\`: what a sniffer sees (pcaps/TRUTH-FORMAT.md), from swaks's transcripts, checked"
  echo "against tshark. \`report.verdicts.json\`: the verdicts \`smtpstrike report\` must give (test/report-fixtures.test.ts)."
  echo
  echo "What happened (UTC; 'p' = cleartext reply, 't' = reply inside TLS, invisible on the wire):"
  echo
  echo '```'
  printf '%s\n' "${STEPS[@]}"
  echo '```'
  echo
  echo "- The logs were copied before the last step: the last failure of 10.200.0.2 is on the wire only; the first one"
  echo "  happened before the capture started and is in the logs only."
  echo "- 10.200.0.5 failed twice in cleartext, then logged in as alice inside STARTTLS and sent a mail: the wire shows"
  echo "  two 535s and an opaque session, Postfix's log shows the failures and \`client=…, sasl_username=alice\`. Only"
  echo "  the join of the two says the account was broken into from an address that had just failed."
  echo "- admin does not exist (Dovecot: unknown user); four addresses fail twice each, under the strike threshold."
} > "$STAGE/README.md"

mkdir -p "$OUT"
for f in "$OUT"/*; do
  [ -e "$f" ] && [ ! -e "$STAGE/$(basename "$f")" ] && { say "removing stale $f"; rm -f "$f"; }
done
for f in "$STAGE"/*; do install -m 644 -o root -g root "$f" "$OUT/"; done
say "wrote $(ls "$STAGE" | wc -l) files to $OUT in $(($(date +%s) - T0)) s"
