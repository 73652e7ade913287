#!/usr/bin/env python3
"""scripts/testbed/tls-records.py - TLS record lengths and timing of a capture, matched to client transcripts.

  python3 scripts/testbed/tls-records.py [--summary] CAPTURE [TRANSCRIPT.jsonl ...]

Reads the record headers with tshark (`-Y tls -T fields -e tls.record.length -e tls.record.content_type
-e tls.record.opaque_type`), nothing decrypted. Without transcripts it prints one line per record:
stream, time, direction (c = client, s = server), content type, length. With the transcripts of
scripts/testbed/tls-client.py (their summary names the client address and port), every application-data
record of a session is matched in order to the plaintext the client sent or received (the TLS 1.3
NewSessionTicket records, the server's first application records, are shown as `ticket`), and one JSON
line per record is printed: version, cipher, dir, text, plaintext length, record length, overhead, and
the gap to the previous record of the other direction (for an AUTH outcome: the time since the last
credential record). A session whose record count does not match its transcript (coalesced replies, as in
pipelining) is printed with "matched": false and its records in order. --summary prints one line per
(version, cipher, encrypt-then-MAC, direction, reply code or client line, plaintext length, record length)
with how often it was seen and the range of its gaps in ms.
"""
import json
import subprocess
import sys

SUMMARY = '--summary' in sys.argv
if SUMMARY:
    sys.argv.remove('--summary')
cap = sys.argv[1]
rows = []
out = subprocess.run(
    ['tshark', '-n', '-r', cap, '-Y', 'tls', '-T', 'fields', '-E', 'separator=|',
     '-e', 'frame.time_epoch', '-e', 'tcp.stream', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'tcp.dstport',
     '-e', 'tls.record.content_type', '-e', 'tls.record.opaque_type', '-e', 'tls.record.length'],
    capture_output=True, text=True, check=True).stdout

streams = {}  # stream -> list of (t, dir, type, len, opaque)
keys = {}     # (client ip, client port) -> stream
for line in out.splitlines():
    t, st, src, sp, dp, ct, ot, ln = line.split('|')
    is_srv = int(sp) in (25, 587)
    d = 's' if is_srv else 'c'
    if not is_srv:
        keys[(src, int(sp))] = int(st)
    cts = [x for x in ct.split(',') if x]
    ots = [x for x in ot.split(',') if x]
    lens = [int(x) for x in ln.split(',') if x]
    # tshark lists the plaintext-header types (content_type) and the TLS 1.3 opaque types separately; in
    # record order the opaque ones come after the clear ones within one frame.
    types = [(int(x), False) for x in cts] + [(int(x), True) for x in ots]
    for (ty, opq), n in zip(types, lens):
        streams.setdefault(int(st), []).append((float(t), d, ty, n, opq))

if len(sys.argv) == 2:
    for st, recs in sorted(streams.items()):
        for t, d, ty, n, opq in recs:
            print(f'{st}\t{t:.6f}\t{d}\t{ty}{"(opaque)" if opq else ""}\t{n}')
    sys.exit(0)


def app_records(recs, v13):
    """The application-data records after the handshake, per direction, in order."""
    if not v13:
        return [r for r in recs if r[2] == 23 and not r[4]]
    cfin = next(r[0] for r in recs if r[1] == 'c' and r[4])  # the client's Finished: first client opaque record
    first = True
    res = []
    for r in recs:
        if not r[4]:
            continue
        if r[1] == 'c' and first:
            first = False  # the Finished itself
            continue
        if r[1] == 's' and r[0] < cfin:
            continue  # server handshake flight
        res.append(r)
    # the close_notify alert (2 bytes + 17) is the last record of a direction and looks like data in 1.3
    for d in ('s', 'c'):
        mine = [r for r in res if r[1] == d]
        if mine and mine[-1][3] == 19:
            res.remove(mine[-1])
    return res


for tr in sys.argv[2:]:
    evs = [json.loads(x) for x in open(tr)]
    summ = evs.pop()['summary']
    st = keys.get((summ['src'], summ['sport']))
    if st is None:
        print(json.dumps({'transcript': tr, 'error': 'no TLS stream for this client port'}))
        continue
    v13 = summ['tls_version'] == 'TLSv1.3'
    recs = app_records(streams[st], v13)
    tev = [e for e in evs if e['tls']]
    srecs = [r for r in recs if r[1] == 's' and r[2] != 21]
    crecs = [r for r in recs if r[1] == 'c' and r[2] != 21]
    sev = [e for e in tev if e['dir'] == 's']
    cev = [e for e in tev if e['dir'] == 'c']
    nticket = len(srecs) - len(sev)
    base = {'transcript': tr, 'stream': st, 'version': summ['tls_version'], 'cipher': summ['cipher']}
    if len(crecs) != len(cev) or nticket < 0 or (not v13 and nticket != 0):
        print(json.dumps({**base, 'matched': False, 'records': [[r[1], r[3]] for r in recs],
                          'plaintext': [[e['dir'], e['len'], e['text'][:20]] for e in tev]}))
        continue
    # label every record, then walk them in capture order for the gaps
    label = {}
    for r in srecs[:nticket]:
        label[id(r)] = ('ticket', None)
    for r, e in zip(srecs[nticket:], sev):
        label[id(r)] = (e['text'], e['len'])
    for r, e in zip(crecs, cev):
        label[id(r)] = (e['text'], e['len'])
    last = {'c': None, 's': None}
    for r in recs:
        if id(r) not in label:
            continue
        text, n = label[id(r)]
        other = last['s' if r[1] == 'c' else 'c']
        row = {**base, 'matched': True, 'dir': r[1], 'text': text[:48], 'plain_len': n, 'record_len': r[3],
               'overhead': None if n is None else r[3] - n,
               'gap_ms': None if other is None else round((r[0] - other) * 1000, 3)}
        if 'etm' in summ and summ['etm'] is not None:
            row['etm'] = summ['etm']
        rows.append(row)
        if not SUMMARY:
            print(json.dumps(row))
        last[r[1]] = r[0]

if SUMMARY:
    # one line per (version, cipher, etm, direction, what): plaintext length -> record lengths; gaps (ms) min-max
    agg = {}
    for r in rows:
        what = r['text'][:3] if r['dir'] == 's' and r['text'][:3].isdigit() else r['text']
        if r['dir'] == 's' and r['text'].startswith('250-'):
            what = 'EHLO reply'
        elif r['dir'] == 'c':
            what = 'client ' + (r['text'].split(' ')[0] if r['text'][:4].isupper() else 'line')
        k = (r['version'], r['cipher'], str(r.get('etm', '')), r['dir'], what, r['plain_len'], r['record_len'])
        agg.setdefault(k, []).append(r['gap_ms'] or 0.0)
    for k, g in sorted(agg.items(), key=lambda kv: [str(x) for x in kv[0]]):
        print('\t'.join(str(x) for x in k) + f'\tn={len(g)}\tgap_ms={min(g):.1f}-{max(g):.1f}')
