#!/usr/bin/env bash
# scripts/testbed/make-tls-captures.sh - captures of a TLS-only Postfix + Dovecot (every AUTH inside STARTTLS)
# with their ground truth, in pcaps/tls/ (format: pcaps/TRUTH-FORMAT.md, the "inside_tls" fields).
#
#   sudo scripts/testbed/make-tls-captures.sh        (needs root: network namespaces; about 80 s)
#
# The server is `tb_mail_up PENALTY tls` (scripts/testbed/lib.sh): port 25 with smtpd_tls_auth_only = yes,
# the 587 submission service with smtpd_tls_security_level = encrypt, Dovecot SASL. The client is
# scripts/testbed/tls-client.py (Python ssl) in the client namespace: it picks the TLS version and cipher,
# does several AUTHs per session, AUTH LOGIN / AUTH PLAIN with an initial response / pipelined AUTH PLAINs,
# and writes a transcript with the plaintext of every line and its time. scripts/testbed/tls-truth.py turns
# the transcripts into the truth file and cross-checks it against the Postfix log (failures with their
# sasl_username, 454s, auth=N/M of the disconnect lines) and tshark (nothing in clear text, one STARTTLS
# per session); any disagreement fails the run and leaves $OUT untouched.
# scripts/testbed/tls-records.py reads the record lengths and gaps (native-notes/tls-inference.md).
# Env: OUT=dir (default pcaps/tls), TB_KEEP=1 keeps the scratch dir (transcripts, server logs, records).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELF=scripts/testbed/make-tls-captures.sh
OUT=${OUT:-$ROOT/pcaps/tls}
FILTER='tcp port 25 or tcp port 587'
CLIENT=$ROOT/scripts/testbed/tls-client.py

# shellcheck source=lib.sh
. "$ROOT/scripts/testbed/lib.sh"
tb_script_setup make-tls-captures

T0=$(date +%s)
tb_up
STAGE=$TB_DIR/out
TRANS=$TB_DIR/transcripts
mkdir -p "$STAGE" "$TRANS"

SERVER_LOG="$TB_DIR/logs/postfix.log"
# shellcheck source=tls-capture-lib.sh
. "$ROOT/scripts/testbed/tls-capture-lib.sh"
# finish NOTES: stop the capture, wait for the Postfix log, write and cross-check the truth
finish() {
  local notes=$1 i n seg=$TB_DIR/logs/$CAP.postfix.log
  sleep 0.3
  tb_capture_stop || die "the capture did not stop cleanly"
  [ "$(stat -c %s "$STAGE/$CAP.pcap")" -lt 204800 ] || die "$CAP.pcap is larger than 200 KB"
  for ((i = 0; i < 100; i++)); do   # postlogd writes asynchronously: wait for every disconnect line
    tail -n +"$((LOG0 + 1))" "$TB_DIR/logs/postfix.log" > "$seg"
    n=$(grep -c 'disconnect from unknown\[10\.200\.0\.[2-9]\] ehlo=' "$seg" || true)
    [ "$n" -ge "$NSESS" ] && break
    sleep 0.1
  done
  [ "$n" -ge "$NSESS" ] || die "$CAP: $n disconnect lines in the Postfix log for $NSESS sessions"
  python3 "$ROOT/scripts/testbed/tls-truth.py" --capture "$CAP.pcap" --made-by "$SELF ($CAP)" --notes "$notes" \
    --log "$seg" --pcap "$STAGE/$CAP.pcap" "$TRANS/$CAP"/*.jsonl > "$STAGE/$CAP.truth.json" ||
    die "$CAP: the transcripts, the Postfix log and tshark disagree (see above)"
  python3 "$ROOT/scripts/testbed/tls-records.py" "$STAGE/$CAP.pcap" "$TRANS/$CAP"/*.jsonl > "$TB_DIR/logs/$CAP.records.jsonl"
}

# ================================================================ penalty off
tb_mail_up 0 tls

# ---- TLS 1.3 (OpenSSL's default: TLS_AES_256_GCM_SHA384)
capture tls13-mixed
session 10.200.0.2 587 '535,535,235' --tls 1.3 --step login:alice:wrong1 --step login:alice:wrong2 --step login:alice:secret --step mail --step quit
session 10.200.0.3 25 '535,535' --tls 1.3 --step plain:a:x --step plain:"$U64":guess --step quit
session 10.200.0.4 587 '235' --tls 1.3 --step plain:bob:hunter2 --step mail --step quit
session 10.200.0.5 25 '535,535,535' --tls 1.3 --step pipe:root:1/admin:2/alice:3
session 10.200.0.3 587 '535,235' --tls 1.3 --step login:"$U64":pw --step login:bob:hunter2 --step quit
session 10.200.0.4 25 '' --tls 1.3 --step mail --step quit
finish "TLS-only Postfix 3.7 + Dovecot (25 smtpd_tls_auth_only = yes, 587 smtpd_tls_security_level = encrypt), no auth penalty; every session STARTTLS + TLS 1.3 (TLS_AES_256_GCM_SHA384), so nothing is readable: clients is empty and inside_tls holds what happened. 10.200.0.2 (587): AUTH LOGIN alice wrong, wrong, right, then a mail (354/250 inside TLS). 10.200.0.3 (25): AUTH PLAIN with initial response for 'a' (1 character) and a 64-character user, both 535; later (587) AUTH LOGIN for the 64-character user (535) then bob (235). 10.200.0.4 (587): AUTH PLAIN bob success + mail. 10.200.0.5 (25): three AUTH PLAIN and QUIT pipelined in one client record (one coalesced server record, see native-notes/tls-inference.md). Last, 10.200.0.4 (25) sends a mail to a local user with no AUTH at all (its 354 and 250 records have the size of a 235: no outcome)."

# ---- TLS 1.2 AES-GCM
capture tls12-gcm
session 10.200.0.2 587 '535,535' --tls 1.2 --cipher ECDHE-RSA-AES128-GCM-SHA256 --step login:alice:wrong1 --step login:"$U64":x --step quit
session 10.200.0.6 25 '535,235' --tls 1.2 --cipher ECDHE-RSA-AES256-GCM-SHA384 --step plain:b:x --step plain:alice:secret --step mail --step quit
session 10.200.0.2 587 '235' --tls 1.2 --cipher ECDHE-RSA-AES128-GCM-SHA256 --step login:bob:hunter2 --step quit
finish "TLS-only Postfix + Dovecot, no auth penalty; TLS 1.2 with AES-GCM suites (ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384). 10.200.0.2 (587): AUTH LOGIN alice wrong and a 64-character user (535, 535) in one session, later AUTH LOGIN bob success. 10.200.0.6 (25): AUTH PLAIN 'b' (535) then alice (235) and a mail."

# ---- TLS 1.2 CBC with HMAC-SHA1 (encrypt-then-MAC negotiated, and one session without it)
capture tls12-cbc
session 10.200.0.7 587 '535,535,235' --tls 1.2 --cipher ECDHE-RSA-AES128-SHA --step login:alice:w1 --step plain:alice:w2 --step login:alice:secret --step mail --step quit
session 10.200.0.8 25 '535' --tls 1.2 --cipher ECDHE-RSA-AES256-SHA --step plain:"$U64":x --step quit
session 10.200.0.8 587 '535,235' --tls 1.2 --cipher ECDHE-RSA-AES128-SHA --no-etm --step login:bob:bad --step login:bob:hunter2 --step quit
session 10.200.0.9 25 '535,535' --tls 1.2 --cipher ECDHE-RSA-AES128-SHA --step pipe:x:1/y:2
session 10.200.0.9 587 '' --tls 1.2 --cipher ECDHE-RSA-AES128-SHA --step quit
finish "TLS-only Postfix + Dovecot, no auth penalty; TLS 1.2 with CBC suites and HMAC-SHA1 (ECDHE-RSA-AES128-SHA, ECDHE-RSA-AES256-SHA). encrypt-then-MAC is negotiated (OpenSSL default) except in the second session of 10.200.0.8, whose client refused it (encrypt_then_mac false: MAC-then-encrypt, other record sizes). 10.200.0.7 (587): LOGIN wrong, PLAIN wrong, LOGIN right, mail. 10.200.0.8: 64-character user PLAIN (535) on 25; on 587 without ETM LOGIN bob wrong then right. 10.200.0.9 (25): two AUTH PLAIN + QUIT pipelined in one record; then (587) a session with no AUTH (EHLO, QUIT)."

tb_mail_down

# ================================================================ Dovecot's default penalty (454 after 10 s)
tb_mail_up 1 tls
capture penalty-454
session 10.200.0.6 587 '535,535,535,(454|535)' --tls 1.3 --step login:alice:p1 --step login:alice:p2 --step login:alice:p3 --step login:alice:p4 --step quit
session 10.200.0.7 25 '535,535,535,(454|535)' --tls 1.2 --cipher ECDHE-RSA-AES128-GCM-SHA256 --step plain:bob:p1 --step plain:bob:p2 --step plain:bob:p3 --step login:bob:p4 --step quit
finish "TLS-only Postfix + Dovecot with Dovecot's default per-IP auth penalty: one session from 10.200.0.6 (587, TLS 1.3) with four AUTH LOGIN failures for alice, then one from 10.200.0.7 (25, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256) with three AUTH PLAIN failures and an AUTH LOGIN for bob. The penalty delays the answers; once the delay passes Postfix's 10 s wait, the answer to AUTH LOGIN itself (before any credential) is '454 4.7.0 Temporary authentication failure: Connection lost to authentication server' (users: null). The outcomes are what the server answered in this run (a 454 has user null)."
tb_mail_down

# ---------------------------------------------------------------- publish
for f in "$STAGE"/*.truth.json; do node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$f" || die "invalid JSON: $f"; done
total=$(du -cb "$STAGE"/*.pcap | tail -n 1 | cut -f1)
[ "$total" -lt 2000000 ] || die "the captures add up to $total bytes (limit 2 MB)"
mkdir -p "$OUT"
for f in "$OUT"/*.pcap "$OUT"/*.truth.json; do
  case $(basename "$f") in exim-*) continue ;; esac # make-exim-tls-captures.sh's
  [ -e "$f" ] && [ ! -e "$STAGE/$(basename "$f")" ] && { say "removing stale $f"; rm -f "$f"; }
done
for f in "$STAGE"/*; do install -m 644 -o root -g root "$f" "$OUT/"; done
cp -r "$TRANS" "$TB_DIR/logs/" 2>/dev/null || true
say "wrote $(ls "$STAGE" | wc -l) files to $OUT in $(($(date +%s) - T0)) s (records and transcripts: TB_KEEP=1 keeps $TB_DIR/logs)"
