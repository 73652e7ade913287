#!/usr/bin/env bash
# scripts/testbed/make-exim-tls-captures.sh - captures of Exim 4 (Debian exim4-daemon-light, GnuTLS) with every
# AUTH inside STARTTLS, with their ground truth, in pcaps/tls/exim-*.pcap + *.truth.json (format:
# pcaps/TRUTH-FORMAT.md, "inside_tls"; Exim truths add "server" and "replies").
#
#   sudo scripts/testbed/make-exim-tls-captures.sh     (needs root: network namespaces, a temporary user)
#
# Nothing is installed: on Debian exim4-daemon-light conflicts with postfix (both are the MTA), so installing
# it would remove Postfix. Instead `apt-get download exim4-daemon-light exim4-base libidn12` into the scratch
# dir, `dpkg -x` them there, and run the unpacked binary with LD_LIBRARY_PATH (libidn12 is the one library
# Debian 12 does not already have) inside the server namespace. The binary refuses to start without its
# compiled-in user `Debian-exim`: a temporary system user is made when it does not exist and removed at the
# end (only if this script made it).
# Test bed: lib.sh's namespaces with TB_PREFIX=eximtb (eximtb-srv / eximtb-cli) and TB_NET=10.211.0 (server
# 10.211.0.1, clients .2 .. .9), so it can run beside the Postfix test beds. Exim listens on 25 and 587:
# STARTTLS offered to all (self-signed certificate), AUTH PLAIN and LOGIN (plaintext authenticators, fixed
# accounts alice/secret and bob/hunter2 as a literal condition) advertised only under TLS
# (server_advertise_condition = ${if def:tls_in_cipher}); accepted mail stays in the scratch spool
# (queue_only, a :blackhole: router): nothing leaves the namespace.
# The client is scripts/testbed/tls-client.py; scripts/testbed/tls-truth.py --server exim turns its transcripts
# into the truth, cross-checked against Exim's mainlog (authenticator-failed lines with set_id per session,
# A=mech:user on the `<=` and `no MAIL` lines) and tshark; any disagreement fails the run and leaves $OUT
# untouched. scripts/testbed/tls-records.py reads the record lengths (native-notes/tls-inference.md).
# Env: OUT=dir (default pcaps/tls; only exim-* files there are replaced), TB_KEEP=1 keeps the scratch dir.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELF=scripts/testbed/make-exim-tls-captures.sh
OUT=${OUT:-$ROOT/pcaps/tls}
FILTER='tcp port 25 or tcp port 587'
CLIENT=$ROOT/scripts/testbed/tls-client.py
export TB_PREFIX=${TB_PREFIX:-eximtb} TB_NET=${TB_NET:-10.211.0}

# shellcheck source=lib.sh
. "$ROOT/scripts/testbed/lib.sh"
tb_script_setup make-exim-tls-captures
EXIM_PID=''
MADE_USER=0
exim_up() {
  # -bdf: daemon in the foreground, as our own background job (its PID known at once, stopped by PID)
  ip netns exec "$TB_SRV_NS" env LD_LIBRARY_PATH="$LIBS" "$EXIM" -C "$CONF" -bdf </dev/null >>"$TB_DIR/logs/exim.stderr" 2>&1 &
  EXIM_PID=$!
  local port ok i
  for port in 25 587; do
    ok=0
    for ((i = 0; i < 40; i++)); do
      if _tb_port_open "$port"; then ok=1; break; fi
      _tb_alive "$EXIM_PID" || break
      sleep 0.25
    done
    [ $ok = 1 ] || { cat "$TB_DIR/logs/exim.stderr" "$X/log/paniclog" >&2 2>/dev/null; die "exim does not answer 220 on $port"; }
  done
  say "exim daemon up (PID $EXIM_PID) on $TB_SRV_IP:25,587"
}
exim_down() {
  [ -n "$EXIM_PID" ] || return 0
  local kids
  kids=$(_tb_children "$EXIM_PID")
  _tb_stop_pids 10 "$EXIM_PID"
  # shellcheck disable=SC2086
  _tb_stop_pids 5 $kids
  EXIM_PID=''
}
_exim_exit() {
  local rc=$?
  set +e
  exim_down || true
  if [ "$MADE_USER" = 1 ]; then
    userdel Debian-exim 2>/dev/null || say "could not remove the temporary user Debian-exim"
    getent group Debian-exim >/dev/null && groupdel Debian-exim 2>/dev/null || true
  fi
  (exit "$rc")
  _tb_script_exit
}
trap _exim_exit EXIT

T0=$(date +%s)
tb_up
STAGE=$TB_DIR/out
TRANS=$TB_DIR/transcripts
X=$TB_DIR/exim
mkdir -p "$STAGE" "$TRANS" "$X/deb" "$X/root" "$X/spool" "$X/log"

# ---------------------------------------------------------------- Exim, unpacked, not installed
chmod 777 "$X/deb"   # apt-get download hands the files to the _apt user
(cd "$X/deb" && apt-get download -q exim4-daemon-light exim4-base libidn12 >"$TB_DIR/logs/apt-download.log" 2>&1) ||
  { cat "$TB_DIR/logs/apt-download.log" >&2; die "apt-get download failed"; }
for f in "$X"/deb/*.deb; do dpkg -x "$f" "$X/root"; done
EXIM=$X/root/usr/sbin/exim4
LIBS=$X/root/usr/lib/x86_64-linux-gnu
[ -x "$EXIM" ] || die "no $EXIM in the packages"
if ! getent passwd Debian-exim >/dev/null; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group Debian-exim ||
    die "could not create the temporary user Debian-exim"
  MADE_USER=1
fi

openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=mail.example.test" \
  -keyout "$X/smtp.key" -out "$X/smtp.crt" >/dev/null 2>&1 || die "openssl failed"
chown Debian-exim:Debian-exim "$X/spool" "$X/log" "$X/smtp.key"
chmod 600 "$X/smtp.key"

CONF=$X/exim.conf
# shellcheck disable=SC2016  # $auth1 etc. are Exim's, not the shell's
{
  echo "# written by $SELF"
  echo "primary_hostname = mail.example.test"
  echo "exim_path = $EXIM"
  echo "keep_environment = LD_LIBRARY_PATH"
  echo "spool_directory = $X/spool"
  echo "log_file_path = $X/log/%slog"
  echo "log_selector = +smtp_connection +smtp_no_mail +incoming_port +pid +tls_cipher"
  echo "daemon_smtp_ports = 25 : 587"
  echo "local_interfaces = $TB_SRV_IP"
  echo "host_lookup ="
  echo "rfc1413_hosts ="
  echo "domainlist local_domains = mail.example.test"
  echo "acl_smtp_rcpt = acl_check_rcpt"
  echo "queue_only = true"
  echo "tls_advertise_hosts = *"
  echo "tls_certificate = $X/smtp.crt"
  echo "tls_privatekey = $X/smtp.key"
  echo
  echo "begin acl"
  echo "acl_check_rcpt:"
  echo "  accept authenticated = *"
  echo "  accept domains = +local_domains"
  echo "  deny   message = relay not permitted"
  echo
  echo "begin routers"
  echo "blackhole:"
  echo "  driver = redirect"
  echo "  data = :blackhole:"
  echo
  echo "begin transports"
  echo
  echo "begin authenticators"
  echo "PLAIN:"
  echo "  driver = plaintext"
  echo "  public_name = PLAIN"
  echo "  server_prompts = :"
  echo '  server_condition = ${if or {{and {{eq{$auth2}{alice}}{eq{$auth3}{secret}}}}{and {{eq{$auth2}{bob}}{eq{$auth3}{hunter2}}}}}}'
  echo '  server_set_id = $auth2'
  echo '  server_advertise_condition = ${if def:tls_in_cipher}'
  echo "LOGIN:"
  echo "  driver = plaintext"
  echo "  public_name = LOGIN"
  echo "  server_prompts = Username:: : Password::"
  echo '  server_condition = ${if or {{and {{eq{$auth1}{alice}}{eq{$auth2}{secret}}}}{and {{eq{$auth1}{bob}}{eq{$auth2}{hunter2}}}}}}'
  echo '  server_set_id = $auth1'
  echo '  server_advertise_condition = ${if def:tls_in_cipher}'
} > "$CONF"
chmod 644 "$CONF"
LD_LIBRARY_PATH=$LIBS "$EXIM" -C "$CONF" -bV >"$TB_DIR/logs/exim-bV.log" 2>&1 || { cat "$TB_DIR/logs/exim-bV.log" >&2; die "exim rejects the config"; }
EXIM_VERSION=$(sed -n '1s/^Exim version \([^ ]*\).*/\1/p' "$TB_DIR/logs/exim-bV.log")
EXIM_DEB=$(cd "$X/deb" && ls exim4-daemon-light_*.deb | sed 's/^exim4-daemon-light_\(.*\)_[^_]*\.deb$/\1/')
GNUTLS_VERSION=$(dpkg-query -W -f '${Version}' libgnutls30 2>/dev/null || echo unknown)
say "Exim $EXIM_VERSION (Debian exim4-daemon-light $EXIM_DEB, unpacked; GnuTLS $GNUTLS_VERSION)"

exim_up
touch "$X/log/mainlog"


MAINLOG=$X/log/mainlog
SERVER_LOG="$MAINLOG"
# shellcheck source=tls-capture-lib.sh
. "$ROOT/scripts/testbed/tls-capture-lib.sh"
# finish NOTES: stop the capture, wait for the Exim log, write and cross-check the truth
finish() { # finish NOTES [NOT-INFERABLE-REASON]
  local notes=$1 not_inferable=${2:-} i n seg=$TB_DIR/logs/$CAP.mainlog
  sleep 0.3
  tb_capture_stop || die "the capture did not stop cleanly"
  [ "$(stat -c %s "$STAGE/$CAP.pcap")" -lt 204800 ] || die "$CAP.pcap is larger than 200 KB"
  for ((i = 0; i < 100; i++)); do   # every session's "closed by QUIT" line
    tail -n +"$((LOG0 + 1))" "$MAINLOG" > "$seg"
    n=$(grep -c "SMTP connection from (client\.example\.test) \[${TB_NET//./\\.}\.[2-9]\]:[0-9]* closed" "$seg" || true)
    [ "$n" -ge "$NSESS" ] && break
    sleep 0.1
  done
  [ "$n" -ge "$NSESS" ] || die "$CAP: $n closed-connection lines in the Exim mainlog for $NSESS sessions"
  python3 "$ROOT/scripts/testbed/tls-truth.py" --server exim --server-name "$SERVER_NAME" \
    --capture "$CAP.pcap" --made-by "$SELF ($CAP)" --notes "$notes" --not-inferable "$not_inferable" \
    --log "$seg" --pcap "$STAGE/$CAP.pcap" "$TRANS/$CAP"/*.jsonl > "$STAGE/$CAP.truth.json" ||
    die "$CAP: the transcripts, the Exim mainlog and tshark disagree (see above)"
  python3 "$ROOT/scripts/testbed/tls-records.py" "$STAGE/$CAP.pcap" "$TRANS/$CAP"/*.jsonl > "$TB_DIR/logs/$CAP.records.jsonl"
}
SERVER_NAME="Exim $EXIM_VERSION (Debian exim4-daemon-light $EXIM_DEB, GnuTLS $GNUTLS_VERSION)"
N=$TB_NET
TLSONLY="AUTH PLAIN and LOGIN offered only after STARTTLS (server_advertise_condition = \${if def:tls_in_cipher}), alice/secret and bob/hunter2; Exim answers 535 at once (no delay)"

# ---- TLS 1.3 (OpenSSL client, GnuTLS server: TLS_AES_256_GCM_SHA384)
capture exim-tls13
session $N.2 587 '535,535,235' --tls 1.3 --step login:alice:wrong1 --step login:alice:wrong2 --step login:alice:secret --step mail --step quit
session $N.3 25 '535,535' --tls 1.3 --step plain:a:x --step plain:"$U64":guess --step quit
session $N.4 587 '235' --tls 1.3 --step plain:bob:hunter2 --step mail --step quit
session $N.5 25 '535,535,535' --tls 1.3 --step pipe:root:1/admin:2/alice:3
session $N.3 587 '535,235' --tls 1.3 --step login:"$U64":pw --step login:bob:hunter2 --step quit
session $N.4 25 '' --tls 1.3 --step mail --step quit
finish "$SERVER_NAME on 25 and 587, STARTTLS; $TLSONLY. Every session TLS 1.3, so nothing is readable: clients is empty and inside_tls holds what happened. $N.2 (587): AUTH LOGIN alice wrong, wrong, right, then a mail. $N.3 (25): AUTH PLAIN with initial response for 'a' and a 64-character user (535, 535); later (587) AUTH LOGIN for the 64-character user (535) then bob (235). $N.4 (587): AUTH PLAIN bob (235) + mail. $N.5 (25): three AUTH PLAIN and QUIT pipelined in one client record: Exim's synchronisation check accepts it (AUTH with an initial response may be pipelined) and answers all four in one record. Last, $N.4 (25) sends a mail with no AUTH at all."

# ---- TLS 1.2 AES-GCM
capture exim-tls12-gcm
session $N.2 587 '535,535' --tls 1.2 --cipher ECDHE-RSA-AES128-GCM-SHA256 --step login:alice:wrong1 --step login:"$U64":x --step quit
session $N.6 25 '535,235' --tls 1.2 --cipher ECDHE-RSA-AES256-GCM-SHA384 --step plain:b:x --step plain:alice:secret --step mail --step quit
session $N.2 587 '235' --tls 1.2 --cipher ECDHE-RSA-AES128-GCM-SHA256 --step login:bob:hunter2 --step quit
finish "$SERVER_NAME on 25 and 587, STARTTLS; $TLSONLY. TLS 1.2 with AES-GCM suites (ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384). $N.2 (587): AUTH LOGIN alice wrong and a 64-character user (535, 535) in one session, later AUTH LOGIN bob (235). $N.6 (25): AUTH PLAIN 'b' (535) then alice (235) and a mail."

# ---- TLS 1.2 CBC with HMAC-SHA1 (encrypt-then-MAC negotiated, and one session without it)
capture exim-tls12-cbc
session $N.7 587 '535,535,235' --tls 1.2 --cipher ECDHE-RSA-AES128-SHA --step login:alice:w1 --step plain:alice:w2 --step login:alice:secret --step mail --step quit
session $N.8 25 '535' --tls 1.2 --cipher ECDHE-RSA-AES256-SHA --step plain:"$U64":x --step quit
session $N.8 587 '535,235' --tls 1.2 --cipher ECDHE-RSA-AES128-SHA --no-etm --step login:bob:bad --step login:bob:hunter2 --step quit
session $N.9 25 '535,535' --tls 1.2 --cipher ECDHE-RSA-AES128-SHA --step pipe:x:1/y:2
session $N.9 587 '' --tls 1.2 --cipher ECDHE-RSA-AES128-SHA --step quit
finish "$SERVER_NAME on 25 and 587, STARTTLS; $TLSONLY. TLS 1.2 with CBC suites and HMAC-SHA1 (ECDHE-RSA-AES128-SHA, ECDHE-RSA-AES256-SHA); encrypt-then-MAC is negotiated (GnuTLS accepts the OpenSSL client's offer) except in the second session of $N.8, whose client refused it (MAC-then-encrypt). With Exim's short replies the 16-byte CBC blocks merge sizes (native-notes/tls-inference.md, Exim section). $N.7 (587): LOGIN wrong, PLAIN wrong, LOGIN right, mail. $N.8: 64-character user PLAIN (535) on 25; on 587 without ETM LOGIN bob wrong then right. $N.9 (25): two AUTH PLAIN + QUIT pipelined in one record; then (587) a session with no AUTH (EHLO, QUIT)." \
  "Exim's replies under TLS 1.2 CBC share record sizes (ETM: 235 = 334 = 68, 535 = 221 = 84; without ETM 535 = 235 = 221 = 80) and Exim answers a 535 as fast as a 235: nothing can be inferred, and nothing may be."

exim_down

# ---------------------------------------------------------------- publish
for f in "$STAGE"/*.truth.json; do node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$f" || die "invalid JSON: $f"; done
total=$(du -cb "$STAGE"/*.pcap | tail -n 1 | cut -f1)
[ "$total" -lt 1000000 ] || die "the captures add up to $total bytes (limit 1 MB)"
mkdir -p "$OUT"
for f in "$OUT"/exim-*.pcap "$OUT"/exim-*.truth.json; do
  [ -e "$f" ] && [ ! -e "$STAGE/$(basename "$f")" ] && { say "removing stale $f"; rm -f "$f"; }
done
for f in "$STAGE"/*; do install -m 644 -o root -g root "$f" "$OUT/"; done
cp -r "$TRANS" "$X/log/mainlog" "$TB_DIR/logs/" 2>/dev/null || true
say "wrote $(ls "$STAGE" | wc -l) files to $OUT in $(($(date +%s) - T0)) s (records and transcripts: TB_KEEP=1 keeps $TB_DIR/logs)"
