#!/usr/bin/env python3
"""log-stamper.py FILE OUT: follow FILE from its end (poll every 2 ms) and write every new line to OUT
as `ARRIVAL_EPOCH<TAB>LINE`, ARRIVAL_EPOCH being the wall clock when the line was read. That is the
time a live log follower (watch --log) could know the line at best, resolution ~2 ms. Stops on SIGTERM."""
import os, signal, sys, time

path, out_path = sys.argv[1], sys.argv[2]
running = True
def stop(*_):
    global running
    running = False
signal.signal(signal.SIGTERM, stop)
while not os.path.exists(path) and running:
    time.sleep(0.01)
with open(path, 'rb') as f, open(out_path, 'w', buffering=1) as out:
    f.seek(0, os.SEEK_END)
    buf = b''
    while running:
        chunk = f.read()
        if not chunk:
            time.sleep(0.002)
            continue
        now = time.time()
        buf += chunk
        *lines, buf = buf.split(b'\n')
        for l in lines:
            out.write(f'{now:.6f}\t{l.decode("utf-8", "replace")}\n')
