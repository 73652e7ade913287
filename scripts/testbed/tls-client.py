#!/usr/bin/env python3
"""scripts/testbed/tls-client.py - one SMTP session through STARTTLS with several AUTHs, for the TLS test bed.

Run inside the client namespace (make-tls-captures.sh does: ip netns exec NS python3 tls-client.py ...):

  tls-client.py --server 10.200.0.1 --port 587 --src 10.200.0.3 --tls 1.2 --cipher ECDHE-RSA-AES128-GCM-SHA256 \
      --step login:alice:wrong --step plain:alice:secret --step mail --step quit

Steps, in order, all after EHLO + STARTTLS + EHLO:
  login:USER:PASS    AUTH LOGIN, username and password each on its own line (one write each)
  plain:USER:PASS    AUTH PLAIN with an initial response
  pipe:U1:P1/U2:P2   several AUTH PLAIN with initial response and a QUIT in ONE write (pipelined)
  mail               MAIL FROM / RCPT TO / DATA / body / . (after a 235)
  quit               QUIT
The transcript (stdout) is one JSON object per line: {"t": seconds since connect (monotonic), "dir": "c"|"s",
"tls": bool, "len": plaintext bytes incl. CRLF, "text": the line(s)}; a final {"summary": ...} line gives the
negotiated TLS version and cipher and the AUTH outcomes in order (535/235/454 ...). Nothing else is sent: the
server address must be the test bed's own.
"""
import argparse
import base64
import json
import socket
import ssl
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument('--server', required=True)
ap.add_argument('--port', type=int, required=True)
ap.add_argument('--src', required=True)
ap.add_argument('--tls', choices=['1.2', '1.3'], default='1.3')
ap.add_argument('--cipher', default='')
ap.add_argument('--no-etm', action='store_true', help='TLS 1.2 CBC: refuse encrypt-then-MAC (SSL_OP_NO_ENCRYPT_THEN_MAC)')
ap.add_argument('--ehlo', default='client.example.test')
ap.add_argument('--step', action='append', default=[])
ap.add_argument('--timeout', type=float, default=40.0)
a = ap.parse_args()
if not a.server.startswith(('10.200.0.', '10.211.0.')):
    sys.exit('tls-client.py: only a test bed (10.200.0.x, Exim 10.211.0.x) may be contacted')

T0 = time.monotonic()
events = []
outcomes = []


def ev(d, tls, data):
    text = data.decode('latin-1')
    events.append({'t': round(time.monotonic() - T0, 6), 'dir': d, 'tls': tls, 'len': len(data), 'text': text.rstrip('\r\n')})


sock = socket.create_connection((a.server, a.port), timeout=a.timeout, source_address=(a.src, 0))
SPORT = sock.getsockname()[1]
conn = sock
tls_on = False
buf = b''


def send(data):
    conn.sendall(data)
    ev('c', tls_on, data)


def reply():
    """Reads one complete (possibly multi-line) reply; returns (code, raw bytes)."""
    global buf
    raw = b''
    while True:
        while b'\r\n' not in buf:
            chunk = conn.recv(4096)
            if not chunk:
                raise EOFError('server closed the connection')
            buf += chunk
        line, buf = buf.split(b'\r\n', 1)
        raw += line + b'\r\n'
        if len(line) < 4 or line[3:4] != b'-':
            ev('s', tls_on, raw)
            return int(line[:3]), raw


def cmd(line):
    send(line.encode() + b'\r\n')
    return reply()


code, _ = reply()
assert code == 220, code
cmd('EHLO ' + a.ehlo)
code, _ = cmd('STARTTLS')
assert code == 220, code
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if a.tls == '1.2':
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if a.cipher:
        ctx.set_ciphers(a.cipher)
    if a.no_etm:
        ctx.options |= 0x80000  # SSL_OP_NO_ENCRYPT_THEN_MAC (OpenSSL 1.1.1 / 3.x)
else:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
conn = ctx.wrap_socket(sock, server_hostname='mail.example.test')
tls_on = True
cmd('EHLO ' + a.ehlo)


def b64(s):
    return base64.b64encode(s.encode()).decode()


for st in a.step:
    kind, _, arg = st.partition(':')
    if kind == 'login':
        user, _, pw = arg.partition(':')
        code, _ = cmd('AUTH LOGIN')
        if code == 334:
            code, _ = cmd(b64(user))
            if code == 334:
                code, _ = cmd(b64(pw))
        outcomes.append(code)
    elif kind == 'plain':
        user, _, pw = arg.partition(':')
        code, _ = cmd('AUTH PLAIN ' + b64('\0' + user + '\0' + pw))
        outcomes.append(code)
    elif kind == 'pipe':
        pairs = [p.partition(':') for p in arg.split('/')]
        send(b''.join(('AUTH PLAIN ' + b64('\0' + u + '\0' + p) + '\r\n').encode() for u, _, p in pairs) + b'QUIT\r\n')
        for _ in pairs:
            code, _ = reply()
            outcomes.append(code)
        reply()
        break
    elif kind == 'mail':
        for line in ('MAIL FROM:<alice@mail.example.test>', 'RCPT TO:<bob@mail.example.test>', 'DATA'):
            cmd(line)
        send(b'Subject: smtpstrike TLS test bed\r\n\r\nHello inside TLS.\r\n.\r\n')
        reply()
    elif kind == 'quit':
        cmd('QUIT')
        break
    else:
        sys.exit('unknown step ' + st)

ver = conn.version() if tls_on else None
ciph = conn.cipher()[0] if tls_on else None
for e in events:
    print(json.dumps(e))
print(json.dumps({'summary': {'tls_version': ver, 'cipher': ciph, 'outcomes': outcomes, 'src': a.src, 'sport': SPORT, 'port': a.port,
                              'etm': (not a.no_etm) if ciph and '-SHA' in ciph and 'GCM' not in ciph else None}}))
