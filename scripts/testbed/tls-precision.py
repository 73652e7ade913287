#!/usr/bin/env python3
"""scripts/testbed/tls-precision.py - precision and recall of the AUTH inference inside TLS.

Replays every capture whose truth has `inside_tls` (as a user would: `smtpstrike replay --json`, no
option) and compares the events marked "inferred" with the truth, per session where the truth lists
sessions (pcaps/tls), else per client. Prints one line per capture, then the table of
native-notes/tls-inference.md. Run from the project root after `npx tsc -p .`.
"""
import json,subprocess,glob,collections
tot=collections.Counter()
rows=[]
for tf in sorted(glob.glob('pcaps/**/*.truth.json',recursive=True)):
    t=json.load(open(tf))
    if 'inside_tls' not in t: continue
    cap=tf.rsplit('/',1)[0]+'/'+t['capture']
    out=subprocess.run(['node','dist/src/cli.js','replay','--json',cap],capture_output=True,text=True).stdout.strip().split('\n')
    evs=[json.loads(l) for l in out]
    got=collections.defaultdict(list)
    for e in evs:
        if e.get('inferred') and e['type'].startswith('auth_'):
            got[(e['client'],e['client_port'])].append(e['code'])
    summ=evs[-1]
    c=collections.Counter()
    for ip,cl in t['inside_tls'].items():
        if 'sessions' in cl:
            for s in cl['sessions']:
                g=got.pop((ip,s['client_port']),[])
                truth=collections.Counter(s['outcomes']); gg=collections.Counter(g)
                for code in (535,235,454):
                    tp=min(truth[code],gg[code]); c[(code,'tp')]+=tp; c[(code,'fn')]+=truth[code]-tp; c[(code,'fp')]+=gg[code]-tp
        else:
            for k in [k for k in got if k[0]==ip]: got.pop(k)
            gi=summ['clients'].get(ip,{}).get('inferred',{})
            for code,k in ((535,'failures'),(235,'successes'),(454,'tempfails')):
                g=gi.get(k,0); tr=cl[k]; tp=min(g,tr); c[(code,'tp')]+=tp; c[(code,'fn')]+=tr-tp; c[(code,'fp')]+=g-tp
    for k,v in got.items():
        for code in v: c[(code,'fp')]+=1
    # clients not in inside_tls
    for ip,cl in summ['clients'].items():
        if ip not in t['inside_tls']:
            for code,k in ((535,'failures'),(235,'successes'),(454,'tempfails')): c[(code,'fp')]+=cl['inferred'][k]
    cov=summ['coverage']
    rows.append((tf, {f'{a}{b}':v for (a,b),v in sorted(c.items()) if v}, cov['opaque_sessions_classified'],cov['opaque_sessions_ambiguous'],cov['opaque_sessions_unclassified']))
    tot+=c
for r in rows: print(r)
for code in (535,235,454):
    tp,fp,fn=tot[(code,'tp')],tot[(code,'fp')],tot[(code,'fn')]
    print(code,'truth',tp+fn,'inferred',tp+fp,'tp',tp,'fp',fp,'fn',fn,'P',round(tp/(tp+fp),2) if tp+fp else '-','R',round(tp/(tp+fn),2) if tp+fn else '-')
