#!/usr/bin/env python3
"""scripts/testbed/tls-truth.py - the ground truth of one TLS capture (pcaps/TRUTH-FORMAT.md, "inside_tls").

  python3 tls-truth.py --capture NAME --made-by TEXT --notes TEXT --log POSTFIX-LOG-SEGMENT --pcap FILE T.jsonl...

Counts the AUTH outcomes inside TLS per client and per session (in order) from the transcripts of
tls-client.py, then cross-checks them against the Postfix log of the same sessions and tshark, and exits 1
on any disagreement:
  - per client: `SASL <mech> authentication failed: (reason unavailable), sasl_username=U` lines = the 535s
    (and their usernames, in order), `... Connection lost to authentication server` = the 454s, and the
    disconnect lines' `auth=N/M` summed: N = the 235s, M = all AUTH commands (535 + 235 + 454);
  - tshark: no 535/235/454 in clear text, and one STARTTLS per session.
With --server exim (scripts/testbed/make-exim-tls-captures.sh) the log is Exim's mainlog (log_selector
+incoming_port, so every line names the session's client port) and the cross-check is per session: the
`authenticator failed for ... [IP]:PORT: 535 ... (set_id=U)` lines = the 535s and their usernames in order,
`454` lines = the 454s, and `A=MECH:USER` on the session's `<=` or `no MAIL` line = its 235 (mechanism and
user of the success; no A= without a 235). The truth then also gets "server" (--server-name) and "replies":
the reply texts the client read in clear inside TLS ({"535": text, "235": text, "334": [texts], "221": text,
"454": text where seen}; without CRLF, so a reply's plaintext is len(text) + 2 bytes).
Prints the truth JSON on stdout.
"""
import argparse
import base64
import json
import re
import subprocess
import sys
from collections import defaultdict

ap = argparse.ArgumentParser()
ap.add_argument('--capture', required=True)
ap.add_argument('--made-by', required=True)
ap.add_argument('--notes', required=True)
ap.add_argument('--log', required=True)
ap.add_argument('--pcap', required=True)
ap.add_argument('--server', choices=['postfix', 'exim'], default='postfix')
ap.add_argument('--server-name', default='')
ap.add_argument('--not-inferable', default='', help='why the outcomes cannot be inferred from this capture (truth: not_inferable)')
ap.add_argument('transcripts', nargs='+')
a = ap.parse_args()

bad = []
clients = defaultdict(lambda: {'failures': 0, 'successes': 0, 'tempfails': 0, 'sessions': []})
fail_users = defaultdict(list)
versions = set()
ciphers = set()
replies = {}
per_session = []  # (src, sport, outcomes, users, mechanisms)
for tr in a.transcripts:
    evs = [json.loads(x) for x in open(tr)]
    s = evs.pop()['summary']
    for e in evs:  # the reply texts read inside TLS, one line per reply code
        if e['dir'] != 's' or not e['tls']:
            continue
        for line in e['text'].split('\r\n'):
            code = line[:3]
            if code == '334':
                replies.setdefault('334', [])
                if line not in replies['334']:
                    replies['334'].append(line)
            elif code in ('535', '235', '454', '221'):
                if replies.setdefault(code, line) != line:
                    bad.append(f'{tr}: {code} reply {line!r} differs from {replies[code]!r}')
    # the usernames of the AUTH attempts, in order, from what the client sent
    users = []
    mechs = []
    pending_login = False
    for e in evs:
        if e['dir'] != 'c':
            continue
        for line in e['text'].split('\r\n'):
            if line.startswith('AUTH PLAIN '):
                users.append(base64.b64decode(line[11:]).split(b'\0')[1].decode())
                mechs.append('PLAIN')
            elif line == 'AUTH LOGIN':
                pending_login = True
            elif pending_login:
                users.append(base64.b64decode(line).decode())
                mechs.append('LOGIN')
                pending_login = False
    outs = s['outcomes']
    # a 454 under the penalty comes in answer to AUTH LOGIN itself: no username was sent for it
    uu = []
    k = 0
    for o in outs:
        if o == 454:
            uu.append(None)
        else:
            uu.append(users[k] if k < len(users) else None)
            k += 1
    per_session.append((s['src'], s['sport'], outs, uu, mechs))
    c = clients[s['src']]
    for o, u in zip(outs, uu):
        if o == 535:
            c['failures'] += 1
            fail_users[s['src']].append(u)
        elif o == 235:
            c['successes'] += 1
        elif o == 454:
            c['tempfails'] += 1
        else:
            bad.append(f'{tr}: unexpected AUTH outcome {o}')
    mail = any(e['dir'] == 's' and e['text'].startswith('354 ') for e in evs)
    ver = {'TLSv1.3': '1.3', 'TLSv1.2': '1.2'}.get(s['tls_version'], s['tls_version'])
    versions.add(ver)
    ciphers.add(s['cipher'])
    sess = {'port': s['port'], 'client_port': s['sport'], 'tls_version': ver, 'cipher': s['cipher'],
            'outcomes': outs, 'users': uu, 'mail': mail, 'mail_after_auth': mail and 235 in outs}
    if s.get('etm') is not None:
        sess['encrypt_then_mac'] = s['etm']
    # pipelined: several commands in one client write (the mail body is one write too, but not commands)
    if any(e['dir'] == 'c' and sum(1 for x in e['text'].split('\r\n') if x.startswith(('AUTH ', 'QUIT'))) > 1 for e in evs):
        sess['pipelined'] = True
    c['sessions'].append(sess)

def check_exim_log():
    """Exim's mainlog against the transcripts, per session (client IP and port)."""
    fails = defaultdict(list)   # (ip, port) -> set_ids of 535s in order
    temps = defaultdict(int)
    auth_ok = defaultdict(list)  # (ip, port) -> ['LOGIN:alice', ...] from A=
    closed = set()
    for line in open(a.log).read().splitlines():
        m = re.search(r' authenticator failed for .*\[([0-9.]+)\]:(\d+)(?: I=\S+)?: (\d{3}) (.*?)(?: \(set_id=(.*)\))?$', line)
        if m:
            k = (m.group(1), int(m.group(2)))
            if m.group(3) == '535':
                fails[k].append(m.group(5))
            elif m.group(3) == '454':
                temps[k] += 1
            else:
                bad.append(f'unexpected Exim log line: {line}')
            continue
        m = re.search(r'(?: <= .* H=| no MAIL in SMTP connection from ).*\[([0-9.]+)\]:(\d+) .*?(?: A=(\S+))?(?: |$)', line)
        if m and (' <= ' in line or 'no MAIL in SMTP connection' in line):
            k = (m.group(1), int(m.group(2)))
            am = re.search(r' A=(\S+)', line)
            if am:
                auth_ok[k].append(am.group(1))
        m = re.search(r'SMTP connection from .*\[([0-9.]+)\]:(\d+) closed', line)
        if m:
            closed.add((m.group(1), int(m.group(2))))
    for ip, port, outs, uu, mechs in per_session:
        k = (ip, port)
        want_f = [u for o, u in zip(outs, uu) if o == 535]
        if fails[k] != want_f:
            bad.append(f'{ip}:{port}: exim log failures {fails[k]} != transcripts {want_f}')
        if temps[k] != outs.count(454):
            bad.append(f'{ip}:{port}: exim log 454s {temps[k]} != transcripts {outs.count(454)}')
        ok = [f'{mechs[i]}:{uu[i]}' for i, o in enumerate(outs) if o == 235]
        if sorted(set(auth_ok[k])) != ok:
            bad.append(f'{ip}:{port}: exim log A= {auth_ok[k]} != transcripts {ok}')
        if k not in closed:
            bad.append(f'{ip}:{port}: no "closed" line in the exim log')
        print(f'tls-truth: {ip}:{port}: transcripts {outs}; exim log 535 set_id={fails[k]} 454={temps[k]} A={auth_ok[k]}',
              file=sys.stderr)


# ---- Postfix log
log = open(a.log).read().splitlines() if a.server == 'postfix' else []
lf = defaultdict(list)
lt = defaultdict(int)
ln = defaultdict(int)
lm = defaultdict(int)
for line in log:
    m = re.search(r'warning: unknown\[([0-9.]+)\]: SASL \w+ authentication failed: (.*), sasl_username=(.*)$', line)
    if m:
        if 'Connection lost to authentication server' in m.group(2):
            lt[m.group(1)] += 1
        else:
            lf[m.group(1)].append(m.group(3))
        continue
    m = re.search(r'disconnect from unknown\[([0-9.]+)\].* auth=(\d+)(?:/(\d+))?', line)
    if m:
        n = int(m.group(2))
        ln[m.group(1)] += n
        lm[m.group(1)] += int(m.group(3)) if m.group(3) else n
if a.server == 'exim':
    check_exim_log()
for ip in (sorted(set(clients) | set(lf) | set(lt) | set(ln)) if a.server == 'postfix' else []):
    c = clients.get(ip, {'failures': 0, 'successes': 0, 'tempfails': 0})
    tot = c['failures'] + c['successes'] + c['tempfails']
    if lf[ip] != fail_users.get(ip, []):
        bad.append(f'{ip}: postfix log failures {lf[ip]} != transcripts {fail_users.get(ip, [])}')
    if lt[ip] != c['tempfails']:
        bad.append(f'{ip}: postfix log 454s {lt[ip]} != transcripts {c["tempfails"]}')
    if ln[ip] != c['successes'] or lm[ip] != tot:
        bad.append(f'{ip}: postfix disconnect auth={ln[ip]}/{lm[ip]} != transcripts {c["successes"]}/{tot}')
    print(f'tls-truth: {ip}: transcripts 535={c["failures"]} 235={c["successes"]} 454={c["tempfails"]}; '
          f'postfix log failures={len(lf[ip])} 454={lt[ip]} auth={ln[ip]}/{lm[ip]}', file=sys.stderr)

# ---- tshark: nothing in clear text, one STARTTLS per session
def tshark(flt, *fields):
    r = subprocess.run(['tshark', '-n', '-r', a.pcap, '-Y', flt, '-T', 'fields', *sum([['-e', f] for f in fields], [])],
                       capture_output=True, text=True, check=True)
    return [x for x in r.stdout.splitlines() if x]

clear = tshark('smtp.response.code == 535 || smtp.response.code == 235 || smtp.response.code == 454', 'ip.dst')
if clear:
    bad.append(f'tshark sees {len(clear)} AUTH replies in clear text')
st = defaultdict(int)
for ip in tshark('smtp.req.command == "STAR" || smtp.req.command == "STARTTLS"', 'ip.src'):
    st[ip] += 1
flows = len(set(tshark('tcp.flags.syn == 1 && tcp.flags.ack == 0', 'tcp.stream')))
for ip, c in clients.items():
    if st[ip] != len(c['sessions']):
        bad.append(f'{ip}: tshark STARTTLS {st[ip]} != sessions {len(c["sessions"])}')
nsess = sum(len(c['sessions']) for c in clients.values())
if flows != nsess:
    bad.append(f'tshark sees {flows} TCP connections, transcripts {nsess} sessions')
if bad:
    print('\n'.join('tls-truth: DISAGREE ' + b for b in bad), file=sys.stderr)
    sys.exit(1)

truth = {
    'capture': a.capture,
    'made_by': a.made_by,
    'clients': {},
    'flows': flows,
    'opaque_flows': nsess,
    'expect_error': None,
    'tls': {'versions': sorted(versions), 'ciphers': sorted(ciphers)},
    'inside_tls': {ip: clients[ip] for ip in sorted(clients, key=lambda x: tuple(int(p) for p in x.split('.')))},
    'notes': a.notes,
    **({'not_inferable': a.not_inferable} if a.not_inferable else {}),
}
if a.server == 'exim':
    truth['server'] = a.server_name or 'exim'
    truth['replies'] = {k: replies[k] for k in ('535', '235', '454', '334', '221') if k in replies}
print(json.dumps(truth, indent=2))
