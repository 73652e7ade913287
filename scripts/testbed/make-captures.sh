#!/usr/bin/env bash
# scripts/testbed/make-captures.sh - regenerate the real test-bed captures in pcaps/testbed/ with their
# .truth.json files (format: pcaps/TRUTH-FORMAT.md) and pcaps/testbed/README.md.
#
#   sudo scripts/testbed/make-captures.sh            (needs root: network namespaces; about 1.5 minutes)
#
# A Postfix + Dovecot server runs in a private network namespace (scripts/testbed/lib.sh); swaks drives it
# from a client namespace. Ground truth is counted from swaks's own transcripts (the server replies it
# printed), then cross-checked per client IP against tshark's SMTP dissector on every capture; the script
# exits non-zero on any disagreement and then leaves pcaps/testbed/ untouched.
# Env: OUT=dir (default pcaps/testbed), TB_KEEP=1 keeps the scratch dir (transcripts, server logs).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELF=scripts/testbed/make-captures.sh
OUT=${OUT:-$ROOT/pcaps/testbed}
FILTER='tcp port 25 or tcp port 587'
EHLO=client.example.test

# shellcheck source=lib.sh
. "$ROOT/scripts/testbed/lib.sh"
tb_script_setup make-captures   # root check; on exit tb_down (and "$OUT was not changed" on failure); die/say
"$ROOT/scripts/install-deps.sh" testbed

T0=$(date +%s)

tb_up
STAGE=$TB_DIR/out
TRANS=$TB_DIR/transcripts
mkdir -p "$STAGE" "$TRANS"
tb_mail_up 0

# ---------------------------------------------------------------- transcript bookkeeping
# Per scenario, per client IP: replies to AUTH seen in cleartext (p535/p235/p454), inside TLS (t...),
# STARTTLS answered 220 (opaque), and the usernames sent in a cleartext AUTH.
declare -A CNT USERS
CLIENTS=()
SCEN=''
NRUN=0

scenario() { SCEN=$1; NRUN=0; CNT=(); USERS=(); CLIENTS=(); DUR=(); mkdir -p "$TRANS/$SCEN"; say "scenario $SCEN"; }


# run IP USER EXPECT SWAKS-ARGS...   (EXPECT: regex for the AUTH outcome list, e.g. 'p535', 't235', '-')
run() {
  local ip=$1 user=$2 expect=$3 rc=0 f res
  shift 3
  NRUN=$((NRUN + 1))
  f=$TRANS/$SCEN/$(printf '%02d' $NRUN)-$ip.txt
  echo "# swaks --server $TB_SRV_IP --local-interface $ip --ehlo $EHLO $*" > "$f"
  local t1 t2
  t1=$(date +%s%N)
  tb_swaks --local-interface "$ip" --ehlo "$EHLO" "$@" >> "$f" 2>&1 || rc=$?
  t2=$(date +%s%N)
  DUR+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')")
  res=$(tb_parse_transcript "$f")
  read -r p535 p235 p454 t535 t235 t454 opaque clear codes <<<"$res"
  if ! [[ $codes =~ ^($expect)$ ]]; then
    cat "$f" >&2
    die "$SCEN run $NRUN from $ip: AUTH outcome '$codes' (swaks rc $rc), expected '$expect'"
  fi
  case $rc in 0 | 28) ;; *) cat "$f" >&2; die "$SCEN run $NRUN from $ip: swaks exit code $rc" ;; esac
  [[ " ${CLIENTS[*]} " == *" $ip "* ]] || CLIENTS+=("$ip")
  local k
  for k in p535 p235 p454 t535 t235 t454 opaque; do CNT[$ip.$k]=$((${CNT[$ip.$k]:-0} + ${!k})); done
  [ "$clear" = 1 ] && [ -n "$user" ] && USERS[$ip]="${USERS[$ip]:-} $user"
  say "  $ip ${user:-(no auth)}: $codes$( [ "$opaque" = 0 ] || echo ' (after STARTTLS)') in ${DUR[-1]} s"
}

sorted_ips() { printf '%s\n' "${CLIENTS[@]}" | sort -t. -k1,1n -k2,2n -k3,3n -k4,4n; }

json_str() { local s=$1; s=${s//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }

# write_truth CAPTURE-FILE-NAME SCENARIO-LABEL NOTES
write_truth() {
  local cap=$1 label=$2 notes=$3 base ip first=1 opq=0 u users f s t
  base=${cap%.pcapng}; base=${base%.pcap}
  [ ! -e "$STAGE/$base.truth.json" ] || die "two captures would share $base.truth.json"
  for ip in "${CLIENTS[@]}"; do opq=$((opq + ${CNT[$ip.opaque]:-0})); done
  {
    echo "{"
    echo "  \"capture\": $(json_str "$cap"),"
    echo "  \"made_by\": $(json_str "$SELF ($label)"),"
    echo "  \"clients\": {"
    for ip in $(sorted_ips); do
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
    # What happened inside TLS (the transcripts' 't' replies): what the inference must find.
    local inside=''
    for ip in $(sorted_ips); do
      f=${CNT[$ip.t535]:-0}; s=${CNT[$ip.t235]:-0}; t=${CNT[$ip.t454]:-0}
      [ $((f + s + t)) -gt 0 ] || continue
      inside+="${inside:+, }$(printf '"%s": {"failures": %d, "successes": %d, "tempfails": %d}' "$ip" "$f" "$s" "$t")"
    done
    [ -z "$inside" ] || echo "  \"inside_tls\": {$inside},"
    echo "  \"opaque_flows\": $opq,"
    echo "  \"expect_error\": null,"
    echo "  \"notes\": $(json_str "$notes")"
    echo "}"
  } > "$STAGE/$base.truth.json"
}

# summary line of the transcript counts of the current scenario (for the log and README)
truth_line() {
  local ip out=''
  for ip in $(sorted_ips); do
    out+="${out:+; }$ip: ${CNT[$ip.p535]:-0} x 535, ${CNT[$ip.p235]:-0} x 235, ${CNT[$ip.p454]:-0} x 454"
    [ $((${CNT[$ip.t535]:-0} + ${CNT[$ip.t235]:-0} + ${CNT[$ip.t454]:-0})) -gt 0 ] &&
      out+=" (inside TLS, invisible: ${CNT[$ip.t535]:-0} x 535, ${CNT[$ip.t235]:-0} x 235, ${CNT[$ip.t454]:-0} x 454)"
  done
  echo "$out"
}

# ---------------------------------------------------------------- tshark cross-check
XCHECK_LOG=$TB_DIR/xcheck.txt
: > "$XCHECK_LOG"
xcheck() {
  local file=$1 tf ip code k got want bad=0 line opq_t=0 opq_w=0
  declare -A TS=() TU=() TO=()
  tf=$TB_DIR/tshark.out
  # server replies: ip.dst is the client
  tshark -n -r "$file" -Y 'smtp.response.code == 535 || smtp.response.code == 235 || smtp.response.code == 454' \
    -T fields -e ip.dst -e smtp.response.code > "$tf" 2>"$TB_DIR/tshark.err" || { cat "$TB_DIR/tshark.err" >&2; die "tshark failed on $file"; }
  while IFS=$'\t' read -r ip line; do
    for code in ${line//,/ }; do
      case $code in 535 | 235 | 454) TS[$ip.$code]=$((${TS[$ip.$code]:-0} + 1)) ;; esac
    done
  done < "$tf"
  # usernames as sent in cleartext: tshark 4.0 shows them base64 as sent, AUTH LOGIN in smtp.auth.username,
  # AUTH PLAIN as smtp.auth.username_password (authzid NUL authcid NUL password: the user is the authcid)
  tshark -n -r "$file" -Y 'smtp.auth.username || smtp.auth.username_password' -T fields -E occurrence=f -E separator='|' \
    -e ip.src -e smtp.auth.username -e smtp.auth.username_password > "$tf" 2>/dev/null || true
  local uname upw
  while IFS='|' read -r ip uname upw; do   # not tab: IFS whitespace would merge empty fields
    if [ -n "$uname" ]; then uname=$(printf '%s' "$uname" | base64 -d 2>/dev/null) || uname="?$uname"
    else uname=$(printf '%s' "$upw" | base64 -d 2>/dev/null | tr '\0' '\n' | sed -n 2p) || uname="?$upw"; fi
    TU[$ip]+=" $uname"
  done < "$tf"
  # STARTTLS commands per client (tshark 4.0 cuts smtp.req.command to 4 letters: "STAR")
  tshark -n -r "$file" -Y 'smtp.req.command == "STAR" || smtp.req.command == "STARTTLS"' -T fields -e ip.src > "$tf" 2>/dev/null || true
  while read -r ip; do [ -n "$ip" ] && TO[$ip]=$((${TO[$ip]:-0} + 1)); done < "$tf"
  for ip in "${!TS[@]}"; do ip=${ip%.*}; [[ " ${CLIENTS[*]} " == *" $ip "* ]] || { say "  tshark: unexpected client $ip"; bad=1; }; done
  for ip in $(sorted_ips); do
    line="$(basename "$file") $ip:"
    for code in 535 235 454; do
      got=${TS[$ip.$code]:-0}; want=${CNT[$ip.p$code]:-0}
      line+=" $code tshark=$got transcript=$want"
      [ "$got" = "$want" ] || bad=1
    done
    opq_t=$((opq_t + ${TO[$ip]:-0})); opq_w=$((opq_w + ${CNT[$ip.opaque]:-0}))
    line+=" starttls tshark=${TO[$ip]:-0} transcript=${CNT[$ip.opaque]:-0}"
    [ "${TO[$ip]:-0}" = "${CNT[$ip.opaque]:-0}" ] || bad=1
    # users: every cleartext username tshark saw must be one the scenario sent from that IP
    want=$(printf '%s\n' ${USERS[$ip]:-} | sort -u | xargs)
    got=$(printf '%s\n' ${TU[$ip]:-} | sort -u | xargs)
    line+=" users tshark=[$got] transcript=[$want]"
    [ "$got" = "$want" ] || bad=1
    echo "$line" >> "$XCHECK_LOG"
    say "  xcheck $line"
  done
  [ $bad = 0 ] || die "tshark disagrees with the swaks transcripts on $file (see above)"
}

# capture_set NAME...: stop captures, check sizes / packet counts agree
finish_captures() {
  sleep 0.5    # let FIN/ACK exchanges finish on the wire (tb_capture_stop then waits for the files to settle)
  tb_capture_stop || die "a capture did not stop cleanly"
  local f n first=''
  for f in "$@"; do
    [ -s "$STAGE/$f" ] || die "capture $f is empty"
    n=$(capinfos -M -c "$STAGE/$f" 2>/dev/null | awk -F': *' '/Number of packets/ {print $2}')
    [ $(stat -c %s "$STAGE/$f") -lt 204800 ] || die "capture $f is larger than 200 KB"
    [ -z "$first" ] && first=$n
    if [ "$n" != "$first" ]; then
      tail -n 4 "$TB_DIR"/logs/capture.*.err >&2 || true
      die "captures of one run differ in packet count ($1: $first, $f: $n)"
    fi
  done
}

linktype() {
  local e
  e=$(capinfos -M -E "$1" 2>/dev/null | awk -F': *' '/File encapsulation/ {print $2}')
  case $e in
    ether) echo "EN10MB (Ethernet, 1)" ;;
    linux-sll) echo "LINUX_SLL (Linux cooked v1, 113)" ;;
    linux-sll2) echo "LINUX_SLL2 (Linux cooked v2, 276)" ;;
    *) echo "$e" ;;
  esac
}

README_ROWS=()
readme_row() { README_ROWS+=("$1"); }

# ================================================================ a. login-587
scenario login-587
tb_capture_start "$TB_SRV_IF" "$STAGE/login-587.pcap" "$FILTER"
tb_capture_start any "$STAGE/login-587-any.pcap" "$FILTER"
tb_capture_start any "$STAGE/login-587-sll.pcap" -y LINUX_SLL "$FILTER"
tb_capture_start "$TB_SRV_IF" "$STAGE/login-587-ng.pcapng" -f "$FILTER"
for i in 1 2 3 4 5; do
  run 10.200.0.2 alice p535 --port 587 --auth LOGIN --auth-user alice --auth-password "wrong$i" --quit-after AUTH
done
run 10.200.0.2 alice p235 --port 587 --auth LOGIN --auth-user alice --auth-password secret \
  --from alice@mail.example.test --to bob@mail.example.test --header 'Subject: smtpstrike test bed (login-587)' \
  --body 'Hello from the smtpstrike test bed.'
finish_captures login-587.pcap login-587-any.pcap login-587-sll.pcap login-587-ng.pcapng
A_LINE=$(truth_line)
A_NOTE="Real Postfix 3.7 + Dovecot SASL in a network namespace, driven by swaks: from 10.200.0.2 five AUTH LOGIN failures for alice (wrong passwords, one connection each, QUIT after the 535) then one AUTH LOGIN success (235) that sends a real mail, all on port 587. Postfix answers each failure with the single line '535 5.7.8 Error: authentication failed: (reason unavailable)'."
for c in login-587.pcap login-587-any.pcap login-587-sll.pcap login-587-ng.pcapng; do
  lt=$(linktype "$STAGE/$c")
  case $c in
    login-587.pcap) how="tcpdump -i <server veth>, pcap, link type $lt" ;;
    login-587-any.pcap) how="tcpdump -i any (same run, simultaneous), pcap, link type $lt" ;;
    login-587-sll.pcap) how="tcpdump -i any -y LINUX_SLL (same run, simultaneous), pcap, link type $lt" ;;
    login-587-ng.pcapng) how="dumpcap -i <server veth> (same run, simultaneous), pcapng, timestamp precision $(capinfos -M "$STAGE/$c" 2>/dev/null | awk -F': *' '/File timestamp precision/ {print $2}'), link type $lt" ;;
  esac
  write_truth "$c" "scenario a: login-587" "$A_NOTE Capture: $how."
  xcheck "$STAGE/$c"
  readme_row "$c|$how|$A_LINE"
done

# ================================================================ b. plain-25
scenario plain-25
tb_capture_start "$TB_SRV_IF" "$STAGE/plain-25.pcap" "$FILTER"
run 10.200.0.3 bob p535 --port 25 --auth PLAIN --auth-user bob --auth-password bad1 --quit-after AUTH
run 10.200.0.4 alice p535 --port 25 --auth PLAIN --auth-user alice --auth-password bad1 --quit-after AUTH
run 10.200.0.3 bob p535 --port 25 --auth PLAIN --auth-user bob --auth-password bad2 --quit-after AUTH
run 10.200.0.4 alice p535 --port 25 --auth PLAIN --auth-user alice --auth-password bad2 --quit-after AUTH
run 10.200.0.3 bob p535 --port 25 --auth PLAIN --auth-user bob --auth-password bad3 --quit-after AUTH
run 10.200.0.4 alice p235 --port 25 --auth PLAIN --auth-user alice --auth-password secret --quit-after AUTH
finish_captures plain-25.pcap
lt=$(linktype "$STAGE/plain-25.pcap")
write_truth plain-25.pcap "scenario b: plain-25" "AUTH PLAIN with initial response ('AUTH PLAIN <base64>') on port 25, one connection per attempt, two clients interleaved in time: 10.200.0.3 (bob) fails 3 times, 10.200.0.4 (alice) fails twice and then succeeds (235, QUIT right after AUTH). Capture: tcpdump -i <server veth>, link type $lt."
xcheck "$STAGE/plain-25.pcap"
readme_row "plain-25.pcap|tcpdump -i <server veth>, pcap, link type $lt|$(truth_line)"

# ================================================================ c. starttls
scenario starttls
tb_capture_start "$TB_SRV_IF" "$STAGE/starttls.pcap" "$FILTER"
run 10.200.0.5 alice t535 --port 587 --tls --auth LOGIN --auth-user alice --auth-password wrongtls --quit-after AUTH
run 10.200.0.5 alice t235 --port 25 --tls --auth LOGIN --auth-user alice --auth-password secret --quit-after AUTH
run 10.200.0.5 alice p535 --port 587 --auth LOGIN --auth-user alice --auth-password wrongplain --quit-after AUTH
finish_captures starttls.pcap
lt=$(linktype "$STAGE/starttls.pcap")
write_truth starttls.pcap "scenario c: starttls" "All from 10.200.0.5: two sessions do STARTTLS (220 2.0.0 Ready to start TLS) and then AUTH LOGIN inside TLS - a failure on 587 and a success on 25 - which a sniffer cannot see (2 opaque flows; the swaks transcripts show 535 and 235 inside TLS). Then one plaintext AUTH LOGIN failure (alice) on 587: the only visible 535. Capture: tcpdump -i <server veth>, link type $lt."
xcheck "$STAGE/starttls.pcap"
readme_row "starttls.pcap|tcpdump -i <server veth>, pcap, link type $lt|$(truth_line); opaque flows 2"

# ================================================================ e. bruteforce-conn
scenario bruteforce-conn
tb_capture_start "$TB_SRV_IF" "$STAGE/bruteforce-conn.pcap" "$FILTER"
for i in 1 2 3 4 5 6 7; do
  run 10.200.0.7 '' '-' --port 25 --quit-after EHLO
done
for i in 1 2 3; do
  run 10.200.0.8 admin p535 --port 25 --auth LOGIN --auth-user admin --auth-password "guess$i" --quit-after AUTH
done
finish_captures bruteforce-conn.pcap
lt=$(linktype "$STAGE/bruteforce-conn.pcap")
syns=$(tshark -n -r "$STAGE/bruteforce-conn.pcap" -Y 'ip.src == 10.200.0.7 && tcp.flags.syn == 1 && tcp.flags.ack == 0' \
  -T fields -e frame.time_epoch 2>/dev/null) || die "tshark failed on bruteforce-conn.pcap"
nconn=$(grep -c . <<<"$syns" || true)
[ "$nconn" = 7 ] || die "bruteforce-conn: expected 7 SYNs from 10.200.0.7, tshark sees $nconn"
span=$(awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%.2f", b - a }' <<<"$syns")
echo "bruteforce-conn.pcap 10.200.0.7: SYNs tshark=$nconn scenario=7 (first to last: $span s)" >> "$XCHECK_LOG"
say "  xcheck bruteforce-conn.pcap 10.200.0.7: $nconn SYNs in $span s"
write_truth bruteforce-conn.pcap "scenario e: bruteforce-conn" "10.200.0.7 opens 7 connections to port 25 ($span s from first to last SYN) that only do EHLO + QUIT (no AUTH, so 10.200.0.7 is not in clients; it is there for a connections-per-minute rule); then 10.200.0.8 makes 3 AUTH LOGIN failures on port 25 for the unknown user admin (Dovecot: unknown user; on the wire the same 535). Capture: tcpdump -i <server veth>, link type $lt."
xcheck "$STAGE/bruteforce-conn.pcap"
readme_row "bruteforce-conn.pcap|tcpdump -i <server veth>, pcap, link type $lt|10.200.0.7: 7 connections in $span s (EHLO+QUIT, no AUTH, not in clients); $(truth_line | sed 's/^10\.200\.0\.7: [^;]*; //')"

# ================================================================ d. penalty-454 (Dovecot default auth penalty)
tb_mail_down
tb_mail_up 1
scenario penalty-454
tb_capture_start "$TB_SRV_IF" "$STAGE/penalty-454.pcap" "$FILTER"
for i in 1 2 3 4 5 6 7 8; do
  run 10.200.0.6 alice 'p535|p454' --port 587 --auth LOGIN --auth-user alice --auth-password "wrong$i" --quit-after AUTH
done
finish_captures penalty-454.pcap
lt=$(linktype "$STAGE/penalty-454.pcap")
D_DUR=$(IFS=,; echo "${DUR[*]}")
D_SEQ=$(for f in "$TRANS"/penalty-454/*.txt; do tb_parse_transcript "$f" | awk '{print substr($9, 2)}'; done | xargs | tr ' ' ',')
[ "${CNT[10.200.0.6.p454]:-0}" -gt 0 ] || say "WARNING: penalty-454 got no 454 at all (replies in order: $D_SEQ)"
write_truth penalty-454.pcap "scenario d: penalty-454" "Dovecot with its default anvil auth penalty: 8 back-to-back AUTH LOGIN failures for alice from 10.200.0.6 on 587, one connection each. Replies in order: $D_SEQ. Session lengths in s: $D_DUR. The penalty delays Dovecot's answer more after each failure; once the delay exceeds Postfix's 10 s wait, Postfix gives up with '454 4.7.0 Temporary authentication failure: Connection lost to authentication server' (log: 'SASL LOGIN authentication failed: Connection lost to authentication server, sasl_username=(unavailable)'; Dovecot: 'auth client 0 disconnected with 1 pending requests: EOF'); in the runs seen so far the next failure after the 454s was answered at once again and the delays grew anew. Counts are what the server answered in this run. Capture: tcpdump -i <server veth>, link type $lt."
xcheck "$STAGE/penalty-454.pcap"
readme_row "penalty-454.pcap|tcpdump -i <server veth>, pcap, link type $lt|$(truth_line) (replies in order: $D_SEQ)"

# ---------------------------------------------------------------- validate JSON, publish
for f in "$STAGE"/*.truth.json; do
  if command -v node >/dev/null; then
    node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$f" || die "invalid JSON: $f"
  fi
done

{
  echo "# Test-bed captures (real Postfix + Dovecot, real swaks clients)"
  echo
  echo "Generated by \`sudo scripts/testbed/make-captures.sh\` (which also writes this file); run it again to"
  echo "regenerate everything here. A Postfix 3.7 server with Dovecot SASL (users alice/secret, bob/hunter2) runs"
  echo "at 10.200.0.1 in a private network namespace, swaks clients at 10.200.0.2-9 in another (scripts/testbed/lib.sh)."
  echo "Captures are filtered to \`$FILTER\` and taken in the server namespace. Each \`X.truth.json\` holds the ground"
  echo "truth (pcaps/TRUTH-FORMAT.md), counted from the server replies that swaks printed and cross-checked per client"
  echo "against tshark's SMTP dissector; \`failures\`/\`successes\`/\`tempfails\` count the 535/235/454 replies a sniffer"
  echo "can see. Every Postfix failure reply is \`535 5.7.8 Error: authentication failed: (reason unavailable)\`."
  echo "Timestamps, ports and the number of 454s in penalty-454 change from run to run; the truth files always match the capture."
  echo
  for r in "${README_ROWS[@]}"; do
    IFS='|' read -r c how counts <<<"$r"
    case $c in
      login-587.pcap) scen="Scenario a: from 10.200.0.2, five AUTH LOGIN failures for alice on port 587 (one connection each), then one AUTH LOGIN success that sends a mail." ;;
      login-587-ng*) scen="Same run as login-587.pcap, captured at the same time (named -ng so that its truth file, login-587-ng.truth.json, does not collide with login-587.truth.json)." ;;
      login-587*) scen="Same run as login-587.pcap, captured at the same time." ;;
      plain-25*) scen="Scenario b: AUTH PLAIN with initial response on port 25, one connection each, interleaved: 10.200.0.3 (bob) fails 3 times, 10.200.0.4 (alice) fails twice then succeeds." ;;
      starttls*) scen="Scenario c: 10.200.0.5 does two STARTTLS sessions with AUTH LOGIN inside TLS (a failure on 587, a success on 25; invisible to a sniffer, so 2 opaque flows and no visible 235), then one plaintext AUTH LOGIN failure for alice on 587." ;;
      bruteforce*) scen="Scenario e: 7 connections from 10.200.0.7 to port 25 that only do EHLO + QUIT (for the connections-per-minute rule), then 3 AUTH LOGIN failures for the unknown user admin from 10.200.0.8 on port 25." ;;
      penalty*) scen="Scenario d: Dovecot keeps its default auth penalty; 8 back-to-back AUTH LOGIN failures for alice from 10.200.0.6 on 587. Once the penalty delay passes Postfix's 10 s wait, the reply is \`454 4.7.0 Temporary authentication failure: Connection lost to authentication server\` (tempfails); how many 454s a run gets depends on timing (about 50 s)." ;;
    esac
    echo "**$c** - $scen Capture: $how. Expected: $counts."
    echo
  done
} > "$STAGE/README.md"

mkdir -p "$OUT"
# $OUT belongs to this script: drop captures / truth files an older version made that are not made any more
for f in "$OUT"/*.pcap "$OUT"/*.pcapng "$OUT"/*.truth.json; do
  [ -e "$f" ] && [ ! -e "$STAGE/$(basename "$f")" ] && { say "removing stale $f"; rm -f "$f"; }
done
for f in "$STAGE"/*; do install -m 644 -o root -g root "$f" "$OUT/"; done
cp "$XCHECK_LOG" "$TB_DIR/logs/" 2>/dev/null || true
say "tshark cross-check:"
sed 's/^/  /' "$XCHECK_LOG" >&2
say "wrote $(ls "$STAGE" | wc -l) files to $OUT in $(($(date +%s) - T0)) s"
