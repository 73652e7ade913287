#!/usr/bin/env python3
"""measure-log-delay.py DIR: pairs the AUTH outcomes of each DIR/<mode>.events.jsonl (smtpstrike replay
--json of the capture: packet time) with the Postfix lines of DIR/<mode>.stamped (log-stamper.py:
arrival time, and the line's own seconds stamp) and prints the delays.

Pairing: the runs are sequential (one swaks at a time, ~0.5 s each), so an outcome on the wire and the
log line of that kind that are each other's nearest in time belong to the same attempt (mutual
nearest; an outcome the inference missed, or a line without its packet, stays unpaired and is counted).
Kinds: failure = `SASL X authentication failed:` (not `Connection lost to authentication server`);
tempfail = that `Connection lost …` line; success = per smtpd session, the first of the `client=…,
sasl_username=` line and the `disconnect … auth=N[/M]` line with N > 0 (what a log sensor sees of a
login: the first line that says so).
delay = log time - packet time (negative: the log line was there before the reply packet)."""
import json, re, statistics, sys, time, os

d = sys.argv[1]
FAIL = re.compile(r'SASL \S+ authentication failed: ')
LOST = 'Connection lost to authentication server'
SMTPD = re.compile(r' postfix/(?:[\w-]+/)?smtpd\[(\d+)\]: ')
AUTHN = re.compile(r' auth=(\d+)(?:/\d+)?\b')
STAMP = re.compile(r'^(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(\.\d+)? ')

def stamp_epoch(line, ref):
    m = STAMP.match(line)
    if not m:
        return None
    frac = float(m.group(6)) if m.group(6) else 0.0
    best = None
    for y in (time.localtime(ref).tm_year - 1, time.localtime(ref).tm_year, time.localtime(ref).tm_year + 1):
        t = time.mktime(time.strptime(f'{y} {m.group(1)} {int(m.group(2))} {m.group(3)}:{m.group(4)}:{m.group(5)}', '%Y %b %d %H:%M:%S')) + frac
        if best is None or abs(t - ref) < abs(best - ref):
            best = t
    return best

def log_records(path):
    recs = {'failure': [], 'success': [], 'tempfail': []}
    done = set()  # smtpd pids whose login was already taken (until the next connect)
    fracs = 0
    for raw in open(path):
        arr_s, line = raw.rstrip('\n').split('\t', 1)
        arr = float(arr_s)
        m = SMTPD.search(line)
        if not m:
            continue
        pid = m.group(1)
        st = stamp_epoch(line, arr)
        if STAMP.match(line) and STAMP.match(line).group(6):
            fracs += 1
        if ' connect from ' in line:
            done.discard(pid)
        elif FAIL.search(line):
            recs['tempfail' if LOST in line else 'failure'].append((arr, st, line))
        elif 'sasl_username=' in line and ' client=' in line and pid not in done:
            recs['success'].append((arr, st, line)); done.add(pid)
        elif ' disconnect from ' in line:
            a = AUTHN.search(line)
            if a and int(a.group(1)) > 0 and pid not in done:
                recs['success'].append((arr, st, line))
            done.discard(pid)
    return recs, fracs

def wire_records(path):
    recs = {'failure': [], 'success': [], 'tempfail': []}
    for l in open(path):
        e = json.loads(l)
        t = e.get('type')
        k = {'auth_failure': 'failure', 'auth_success': 'success', 'auth_tempfail': 'tempfail'}.get(t)
        if k:
            recs[k].append((e['ts'], bool(e.get('inferred'))))
    return recs

def mutual_nearest(wire, log):
    def nearest(t, xs, key):
        return min(range(len(xs)), key=lambda i: abs(key(xs[i]) - t)) if xs else None
    pairs = []
    for wi, wv in enumerate(wire):
        li = nearest(wv[0], log, lambda l: l[0])
        if li is not None and nearest(log[li][0], wire, lambda x: x[0]) == wi:
            pairs.append((wv, log[li]))
    return pairs

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * (len(xs) - 1)))))]

def fmt(xs):
    return (f'n={len(xs)} min={min(xs)*1000:+.1f} median={statistics.median(xs)*1000:+.1f} '
            f'p99={pct(xs, 99)*1000:+.1f} max={max(xs)*1000:+.1f} ms')

ok = True
allarr = []
for mode in ('plain', 'tls', 'penalty'):
    ev, st = os.path.join(d, f'{mode}.events.jsonl'), os.path.join(d, f'{mode}.stamped')
    if not (os.path.exists(ev) and os.path.exists(st)):
        continue
    w = wire_records(ev)
    lg, fracs = log_records(st)
    print(f'## {mode} (log stamps with a fraction: {fracs})')
    for k in ('failure', 'success', 'tempfail'):
        if not w[k] and not lg[k]:
            continue
        inferred = sum(1 for _, i in w[k] if i)
        pairs = mutual_nearest(w[k], lg[k])
        if not pairs:
            print(f'{k}: nothing paired (wire {len(w[k])}, log {len(lg[k])})')
            ok = False
            continue
        arr = [l[0] - p[0] for p, l in pairs]
        stp = [l[1] - p[0] for p, l in pairs]
        allarr += arr
        unpaired = f', unpaired: wire {len(w[k]) - len(pairs)}, log {len(lg[k]) - len(pairs)}' if len(pairs) != max(len(w[k]), len(lg[k])) else ''
        print(f'{k} (wire {len(w[k])}, inferred {inferred}, log {len(lg[k])}{unpaired}):')
        print(f'  log arrival - packet: {fmt(arr)}')
        print(f'  log stamp   - packet: {fmt(stp)}')
print(f'## all kinds, log arrival - packet: {fmt(allarr)}' if allarr else '## nothing paired')
sys.exit(0 if ok else 1)
