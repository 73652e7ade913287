/**
 * Third-party captures (see ../shared/corpus/MANIFEST.md): none holds a 535, so every client
 * must end with 0 failures; successes, opaque sessions and errors are as the manifest states.
 * Permissively licensed captures are read from the in-repo copy (test/fixtures/third-party);
 * GPL, LGPL and unlicensed ones only from the shared corpus, and skip loudly without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smtpstrike } from './support/cli.js';
import { requireCorpus } from './support/corpus.js';

interface Expect {
  successes: Record<string, number>;
  opaque?: number;
  error?: RegExp;
  packets?: number;
}

const cases: Record<string, Expect> = {
  'zeek/smtp.pcap': { successes: { '10.10.1.4': 1 } },
  'zeek/smtp-starttls.pcap': { successes: {}, opaque: 1 },
  'ndpi/smtp-starttls-ipv6-vlan.pcap': { successes: {}, opaque: 2 },
  'ndpi/smtp.pcap': { successes: {} },
  'bruteshark/smtp-auth-cram-md5.pcap': { successes: { '127.0.0.1': 1 } },
  'bruteshark/smtp-auth-cram-md5.pcapng': { successes: { '127.0.0.1': 1 } },
  'bruteshark/smtp-auth-plain.pcap': { successes: { '127.0.0.1': 1 } },
  'bruteshark/smtp-auth-plain.pcapng': { successes: { '127.0.0.1': 1 } },
  'bruteshark/smtp-auth-login.pcapng': { successes: { '10.10.1.4': 1 } },
  'suricata-verify/smtp-long-command.pcap': { successes: {} },
  // Edited capture: a strict reassembler (and tshark) sees the 235 as overlap and drops it.
  'suricata-verify/smtp-bug-5989.pcap': { successes: {} },
  'suricata-verify/smtp-pipelining-dltnull.pcap': { successes: {} },
  'suricata-verify/smtp-startssl.pcap': { successes: {}, opaque: 1 },
  'suricata-verify/smtp-to-comma-truncated.pcap': { successes: {}, error: /3925868813-byte packet/, packets: 18 },
  'arkime/smtp-data-521.pcap': { successes: { '10.0.0.1': 1 } },
  'arkime/ntlm_synthetic.pcap': { successes: { '10.10.11.100': 1 } },
  'pcapplusplus/Smtp.pcap': { successes: {} },
  'forensicscontest/evidence02.pcap': { successes: { '192.168.1.159': 2 } },
  'chrissanders/mail_sender_client_1.pcapng': { successes: {} },
};

for (const [file, want] of Object.entries(cases)) {
  test(`corpus: ${file}`, (t) => {
    const path = requireCorpus(t, file);
    if (path === null) return;
    const r = smtpstrike(['replay', '--json', path]);
    assert.ok(r.summary, r.stderr);
    if (want.error) {
      assert.equal(r.status, 2);
      assert.match(r.summary.files[0]!.error!.reason, want.error);
      assert.equal(r.summary.files[0]!.packets, want.packets);
    } else assert.equal(r.status, 0, r.stderr);
    const got: Record<string, number> = {};
    for (const [ip, c] of Object.entries(r.summary.clients)) {
      assert.equal(c.failures, 0, `${ip} has no 535 in this capture`);
      if (c.successes) got[ip] = c.successes;
    }
    assert.deepEqual(got, want.successes);
    assert.equal(r.summary.coverage.opaque_flows, want.opaque ?? 0, 'opaque flows');
    assert.equal(r.lines.filter((l) => l.type === 'strike').length, 0);
  });
}
