/**
 * Child process of CapSource.start(): tries cap's open() with the given interface, filter and
 * buffer size, prints one JSON line `{"ok":true,"linktype":"ETHERNET"}` or
 * `{"ok":false,"message":"…"}`, and exits. A failed open() leaves a cap object whose destructor
 * crashes the process at the next GC, so a failure must happen here, not in the long-running one;
 * the failed object is kept referenced until exit anyway.
 *   node dist/src/live/cap-probe.js '{"iface":"eth0","filter":"tcp port 25","bufferSize":2097152}'
 */
import type { Cap as CapClass } from 'cap';

const keep: CapClass[] = [];

async function main(): Promise<void> {
  const arg = JSON.parse(process.argv[2] ?? '{}') as { iface?: string; filter?: string; bufferSize?: number };
  let Cap: typeof CapClass;
  try {
    const m = await import('cap');
    Cap = (m.default ?? m).Cap;
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, message: `cannot load cap: ${(e as Error).message.split('\n')[0]}` }) + '\n');
    return;
  }
  const cap = new Cap();
  try {
    const linktype = cap.open(String(arg.iface), String(arg.filter ?? ''), Number(arg.bufferSize ?? 2097152), Buffer.alloc(65535));
    cap.close();
    process.stdout.write(JSON.stringify({ ok: true, linktype }) + '\n');
  } catch (e) {
    keep.push(cap);
    process.stdout.write(JSON.stringify({ ok: false, message: (e as Error).message }) + '\n');
  }
}

await main();
