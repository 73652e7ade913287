// ATTACKED, one verdict of rules.ts: addresses with failures and no login.
import type { AddressStat, AttackedRow } from './report-doc.js';

/** ATTACKED: addresses with failures (or 454s) and no login, most attempts first; `distributedOf`: the DISTRIBUTED accounts per address. */
export function attackedRows(addresses: ReadonlyMap<string, AddressStat>, distributedOf: ReadonlyMap<string, readonly string[]>): AttackedRow[] {
  const rows: AttackedRow[] = [];
  for (const st of addresses.values()) {
    if (st.successes.all > 0 || st.failures.all + st.tempfails.all === 0) continue;
    rows.push({
      verdict: 'ATTACKED',
      subject: 'address',
      address: st.ip,
      failures: { ...st.failures },
      tempfails: st.tempfails.all,
      users: st.users,
      blocks: st.blocks,
      would_block: st.would_block,
      rejects: st.blocks.reduce((s, b) => s + b.rejects, 0),
      distributed: [...(distributedOf.get(st.ip) ?? [])].sort(),
      first_ts: st.first_ts,
      last_ts: st.last_ts,
    });
  }
  rows.sort((a, b) => b.failures.all + b.tempfails - (a.failures.all + a.tempfails) || (a.address < b.address ? -1 : 1));
  return rows;
}
