#!/usr/bin/env bash
# scripts/testbed/make-report-tls-fixture.sh - the pcaps/report-tls fixture: one real TLS-only test-bed run
# with a credential checker (issue 11), a capture AND the server's logs of the same run.
#
#   sudo scripts/testbed/make-report-tls-fixture.sh          (needs root: network namespaces, capture; ~15 s)
#
# Writes to $OUT (default: a new directory /tmp/report-tls.XXXXXX, so the shipped fixture is not replaced
# by accident; OUT=pcaps/report-tls to regenerate it — then re-check its README's facts, times and ports):
#   report-tls.pcap         tcpdump on the server's veth, 'tcp port 25 or tcp port 587'
#   postfix.log             Postfix's own maillog_file (zero-padded days), UTC
#   dovecot.log             Dovecot's log_path (auth_verbose)
#   report-tls.truth.json   pcaps/TRUTH-FORMAT.md: clients {} (nothing in clear), inside_tls per client and
#                           session from the clients' own record, cross-checked against Postfix's log
# Env: OUT=dir.
#
# This is the script of the commit that added pcaps/report-tls (cf2b3f8, where it lived in the commit
# message as run2.sh + client.py), made a file: the same test bed (TB_NET=10.217.0, `tb_mail_up 0 tls`:
# Postfix + Dovecot SASL, 587 with smtpd_tls_security_level=encrypt, no auth penalty), the same clients
# in the same order. The client is Python's smtplib as before; the only change is that it calls
# SMTP.auth() per mechanism in the order SMTP.login() uses (PLAIN, then LOGIN, as the server offers
# both), so it can record each AUTH's reply for the truth file. The bytes on the wire are the same.
#
# Scenario (all on 587 after STARTTLS):
#   10.217.0.6  bob/hunter2 with swaks, then a mail                  -> Postfix: client=…, sasl_username=bob; auth=1
#   10.217.0.5  alice: passwords x1, x2, each tried PLAIN then LOGIN -> 4 x 535, QUIT; auth=0/4
#   10.217.0.3  alice: bad1, bad2 (PLAIN + LOGIN each), secret (PLAIN 235), QUIT without a mail
#                                                                    -> four failure lines and only auth=1/5
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SELF=scripts/testbed/make-report-tls-fixture.sh
OUT=${OUT:-$(mktemp -d /tmp/report-tls.XXXXXX)}
export TB_NET=10.217.0
export TB_PREFIX=${TB_PREFIX:-rtls$$}

# shellcheck source=lib.sh
. "$ROOT/scripts/testbed/lib.sh"
tb_script_setup make-report-tls-fixture   # root check; on exit tb_down; die/say
"$ROOT/scripts/install-deps.sh" testbed >/dev/null

tb_up
tb_mail_up 0 tls
STAGE=$TB_DIR/out
mkdir -p "$STAGE"
CLIENT=$TB_DIR/client.py
cat > "$CLIENT" <<'PY'
# smtplib credential checker: STARTTLS, then each password with PLAIN then LOGIN (SMTP.login's order for a
# server offering both) until one is accepted, then QUIT. Prints one JSON line: the session's truth.
import json, smtplib, ssl, sys
srv, src, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
user, pwds = 'alice', sys.argv[4:]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = smtplib.SMTP(srv, port, source_address=(src, 0), timeout=60)
s.ehlo(); s.starttls(context=ctx); s.ehlo()
sess = {'port': port, 'client_port': s.sock.getsockname()[1], 'tls_version': s.sock.version().replace('TLSv', ''),
        'cipher': s.sock.cipher()[0], 'outcomes': [], 'users': [], 'mail': False, 'mail_after_auth': False}
s.user, s.password = user, None
done = False
for p in pwds:
    s.password = p
    for mech in ('PLAIN', 'LOGIN'):
        auth = s.auth_plain if mech == 'PLAIN' else s.auth_login
        try:
            code, _ = s.auth(mech, auth, initial_response_ok=True)
            sess['outcomes'].append(code); sess['users'].append(user); done = True
            break
        except smtplib.SMTPAuthenticationError as e:
            sess['outcomes'].append(e.smtp_code); sess['users'].append(user)
    if done:
        break
s.quit()
print(json.dumps(sess))
PY

PCAP=$STAGE/report-tls.pcap
tb_capture_start "$TB_SRV_IF" "$PCAP" 'tcp port 25 or tcp port 587'
sleep 1
# bob sends a mail after STARTTLS (a named login)
tb_swaks --port 587 --local-interface 10.217.0.6 --tls --auth LOGIN --auth-user bob --auth-password hunter2 \
  --to root@mail.example.test > "$TB_DIR/swaks-bob.txt" 2>&1 || die "swaks bob failed: $(tail -3 "$TB_DIR/swaks-bob.txt")"
# 10.217.0.5: failures only
tb_cli python3 "$CLIENT" "$TB_SRV_IP" 10.217.0.5 587 x1 x2 > "$TB_DIR/s5.json" || die "client 10.217.0.5 failed"
# 10.217.0.3: two wrong passwords, then the right one, QUIT (a credential checker)
tb_cli python3 "$CLIENT" "$TB_SRV_IP" 10.217.0.3 587 bad1 bad2 secret > "$TB_DIR/s3.json" || die "client 10.217.0.3 failed"
sleep 2
tb_capture_stop
cp "$TB_DIR/logs/postfix.log" "$TB_DIR/logs/dovecot.log" "$STAGE/"

# bob's session: swaks does not say its client port; tshark does (the one SYN from .6).
BOB_PORT=$(tshark -r "$PCAP" -Y 'ip.src==10.217.0.6 && tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.srcport 2>/dev/null | head -1)
python3 - "$STAGE" "$TB_DIR/s5.json" "$TB_DIR/s3.json" "$BOB_PORT" "$SELF" <<'PY' > "$STAGE/report-tls.truth.json" || die "truth cross-check failed"
import json, re, subprocess, sys
stage, s5, s3, bob_port, made_by = sys.argv[1:6]
sessions = {
    '10.217.0.6': [{'port': 587, 'client_port': int(bob_port), 'tls_version': '1.3', 'cipher': None, 'outcomes': [235], 'users': ['bob'], 'mail': True, 'mail_after_auth': True}],
    '10.217.0.5': [json.load(open(s5))],
    '10.217.0.3': [json.load(open(s3))],
}
# TLS version and cipher of every session from its ServerHello (tshark), bob's included.
hello = subprocess.run(['tshark', '-r', f'{stage}/report-tls.pcap', '-Y', 'tls.handshake.type==2', '-T', 'fields', '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'tls.handshake.ciphersuite'], capture_output=True, text=True, check=True).stdout
SUITES = {'0x1301': 'TLS_AES_128_GCM_SHA256', '0x1302': 'TLS_AES_256_GCM_SHA384', '0x1303': 'TLS_CHACHA20_POLY1305_SHA256'}
for line in hello.strip().split('\n'):
    ip, port, suite = line.split('\t')
    for s in sessions[ip]:
        if s['client_port'] == int(port):
            s['cipher'] = s['cipher'] or SUITES.get(suite, suite)
            if s['cipher'] != SUITES.get(suite, suite):
                sys.exit(f'{ip}:{port}: the client says {s["cipher"]}, the ServerHello {suite}')
# Cross-check against Postfix's log: failure lines (and their users) and the disconnect lines' auth=N/M.
log = open(f'{stage}/postfix.log').read()
for ip, ss in sessions.items():
    fails = re.findall(r'unknown\[' + re.escape(ip) + r'\]: SASL \w+ authentication failed: .*sasl_username=(\S+)', log)
    want = [u for s in ss for o, u in zip(s['outcomes'], s['users']) if o == 535]
    if fails != want:
        sys.exit(f'{ip}: log failures {fails}, the client saw {want}')
    n = sum(int(m.group(1)) for m in re.finditer(r'disconnect from unknown\[' + re.escape(ip) + r'\] .*auth=(\d+)', log))
    if n != sum(s['outcomes'].count(235) for s in ss):
        sys.exit(f'{ip}: auth= logins in the log {n}')
inside = {ip: {'failures': sum(s['outcomes'].count(535) for s in ss), 'successes': sum(s['outcomes'].count(235) for s in ss),
               'tempfails': sum(s['outcomes'].count(454) for s in ss), 'sessions': ss} for ip, ss in sessions.items()}
print(json.dumps({
    'capture': 'report-tls.pcap', 'made_by': made_by, 'clients': {}, 'flows': 3, 'opaque_flows': 3, 'expect_error': None,
    'tls': {'versions': sorted({s['tls_version'] for ss in sessions.values() for s in ss}), 'ciphers': sorted({s['cipher'] for ss in sessions.values() for s in ss})},
    'inside_tls': inside,
    'notes': 'TLS-only Postfix + Dovecot (587, encrypt): every AUTH inside TLS, nothing in clear (clients {}). 10.217.0.6 bob logs in and sends a mail (swaks); 10.217.0.5 fails 4 times (2 passwords x PLAIN, LOGIN, smtplib); 10.217.0.3 fails 4 times, then logs in with PLAIN and quits without a mail (Postfix logs only auth=1/5). Counts from the clients, cross-checked against postfix.log.',
}, indent=2))
PY
say "wrote $STAGE -> $OUT"
mkdir -p "$OUT"
cp "$STAGE"/* "$OUT/"
ls -l "$OUT" >&2
