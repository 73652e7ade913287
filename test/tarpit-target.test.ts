/**
 * The tarpit target `[HOST:]PORT` (blocks --tarpit, watch --tarpit) and the NAT rules each backend
 * writes for it, exactly; without a tarpit the scripts are the ones written before tarpits existed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTarpitTarget, parseTarpitTarget, tarpitRules } from '../src/blocker/tarpit-target.js';
import { BlockerError } from '../src/blocker/types.js';
import { NftBlocker } from '../src/blocker/nft.js';
import { IpsetBlocker } from '../src/blocker/ipset.js';
import { IptablesBlocker, parseNatChain } from '../src/blocker/iptables.js';
import { normalizeOps } from '../src/blocker/address.js';
import type { CommandRunner, RunResult } from '../src/blocker/runner.js';

class NullRunner implements CommandRunner {
  readonly netns = undefined;
  async run(): Promise<RunResult> {
    return { code: 0, stdout: '', stderr: '' };
  }
}

test('parseTarpitTarget: PORT, :PORT, IPv4:PORT, [IPv6]:PORT, canonical; the rest refused with the reason', () => {
  assert.deepEqual(parseTarpitTarget('2626'), { port: 2626 });
  assert.deepEqual(parseTarpitTarget(':2626'), { port: 2626 });
  assert.deepEqual(parseTarpitTarget('192.0.2.1:2626'), { host: '192.0.2.1', port: 2626 });
  assert.deepEqual(parseTarpitTarget('[2001:DB8:0::1]:25000'), { host: '2001:db8::1', port: 25000 });
  assert.deepEqual(parseTarpitTarget('[::]:2626'), { host: '::', port: 2626 });
  for (const [bad, why] of [
    ['', /port must be 0-65535/],
    ['65536', /port must be 0-65535/],
    ['25x', /port must be 0-65535/],
    ['mail.example:2626', /"mail.example" is not an IP address/],
    ['2001:db8::1:2626', /IPv6 address in brackets/],
    ['[192.0.2.1]:2626', /not an IPv6 address/],
    ['[2001:db8::1]2626', /expected \[HOST:\]PORT/],
    ['192.0.2.1:', /port must be/],
    ['1.2.3.4; flush ruleset:25', /not an IP address/],
  ] as const) {
    assert.throws(
      () => parseTarpitTarget(bad),
      (e: unknown) => e instanceof BlockerError && e.kind === 'usage' && why.test(e.message),
      bad,
    );
  }
  for (const t of ['2626', '192.0.2.1:2626', '[2001:db8::1]:2626']) assert.equal(formatTarpitTarget(parseTarpitTarget(t)), t);
});

test('tarpitRules: both families redirected, or dnat for the host family only; port among the blocked ones and loopback refused', () => {
  assert.deepEqual(tarpitRules(undefined, [25]), []);
  assert.deepEqual(tarpitRules({ port: 2626 }, [25, 587]), [
    { family: 4, port: 2626 },
    { family: 6, port: 2626 },
  ]);
  assert.deepEqual(tarpitRules({ host: '::', port: 2626 }, [25]), [
    { family: 4, port: 2626 },
    { family: 6, port: 2626 },
  ]);
  assert.deepEqual(tarpitRules({ host: '0.0.0.0', port: 2626 }, [25]), [{ family: 4, port: 2626 }]);
  assert.deepEqual(tarpitRules({ host: '192.0.2.1', port: 2626 }, [25]), [{ family: 4, host: '192.0.2.1', port: 2626 }]);
  assert.deepEqual(tarpitRules({ host: '2001:db8::1', port: 2626 }, [25]), [{ family: 6, host: '2001:db8::1', port: 2626 }]);
  assert.throws(() => tarpitRules({ port: 587 }, [25, 587]), /tarpit port 587 is one of the blocked ports/);
  assert.throws(() => tarpitRules({ host: '127.0.0.1', port: 2626 }, [25]), /loopback/);
  assert.throws(() => tarpitRules({ host: '::1', port: 2626 }, [25]), /loopback/);
  assert.throws(() => new NftBlocker({ ports: [25], tarpit: { port: 25 }, runner: new NullRunner() }), BlockerError);
});

test('nft: the NAT chain and its rules, exactly; none without a tarpit; a NAT chain left from before is deleted', () => {
  const plain = new NftBlocker({ ports: [25, 587], runner: new NullRunner() });
  assert.equal(plain.natScript(false), '');
  assert.equal(plain.natScript(true), 'flush chain inet smtpstrike prerouting\ndelete chain inet smtpstrike prerouting\n');
  const r = new NftBlocker({ ports: [25, 587], tarpit: { port: 2626 }, runner: new NullRunner() });
  assert.equal(
    r.natScript(false),
    'add chain inet smtpstrike prerouting { type nat hook prerouting priority dstnat - 10; policy accept; }\n' +
      'flush chain inet smtpstrike prerouting\n' +
      'add rule inet smtpstrike prerouting ip saddr @blocked4 tcp dport { 25, 587 } ct state new counter redirect to :2626 comment "smtpstrike:tarpit4:2626"\n' +
      'add rule inet smtpstrike prerouting ip6 saddr @blocked6 tcp dport { 25, 587 } ct state new counter redirect to :2626 comment "smtpstrike:tarpit6:2626"\n',
  );
  assert.equal(r.structureScript(), plain.structureScript(), 'the filter side is unchanged');
  assert.equal(r.rulesScript(), plain.rulesScript());
  const d4 = new NftBlocker({ ports: [25], tarpit: { host: '192.0.2.1', port: 2626 }, runner: new NullRunner() });
  assert.match(
    d4.natScript(false),
    /ip saddr @blocked4 tcp dport \{ 25 \} ct state new counter dnat ip to 192\.0\.2\.1:2626 comment "smtpstrike:tarpit4:192\.0\.2\.1:2626"\n$/,
  );
  assert.doesNotMatch(d4.natScript(false), /blocked6/);
  const d6 = new NftBlocker({ ports: [25], tarpit: { host: '2001:db8::1', port: 2626 }, runner: new NullRunner() });
  assert.match(
    d6.natScript(false),
    /ip6 saddr @blocked6 tcp dport \{ 25 \} ct state new counter dnat ip6 to \[2001:db8::1\]:2626 comment "smtpstrike:tarpit6:\[2001:db8::1\]:2626"\n$/,
  );
});

test('ipset and iptables: the nat rules, exactly; the filter rules unchanged', () => {
  const ip = new IpsetBlocker({ ports: [25, 587], tarpit: { port: 2626 }, runner: new NullRunner() });
  assert.equal(
    ip.natArgs(4)!.join(' '),
    '-p tcp -m multiport --dports 25,587 -m set --match-set smtpstrike4 src -m conntrack --ctstate NEW -m comment --comment smtpstrike -j REDIRECT --to-ports 2626',
  );
  assert.deepEqual(ip.ruleArgs(4), new IpsetBlocker({ ports: [25, 587], runner: new NullRunner() }).ruleArgs(4));
  const ip6 = new IpsetBlocker({ ports: [25], tarpit: { host: '2001:db8::1', port: 2626 }, runner: new NullRunner() });
  assert.equal(ip6.natArgs(4), null);
  assert.match(ip6.natArgs(6)!.join(' '), /--match-set smtpstrike6 src .* -j DNAT --to-destination \[2001:db8::1\]:2626$/);

  const now = 1_700_000_000_000;
  const it = new IptablesBlocker({ ports: [25, 587], tarpit: { port: 2626 }, runner: new NullRunner(), now: () => now });
  assert.equal(
    it.natJumpArgs(4)!.join(' '),
    '-p tcp -m multiport --dports 25,587 -m conntrack --ctstate NEW -m comment --comment smtpstrike:tarpit4:2626 -j SMTPSTRIKE',
  );
  const nat = parseNatChain(
    [
      '-N SMTPSTRIKE',
      '-A SMTPSTRIKE -s 10.0.0.1/32 -p tcp -m comment --comment "smtpstrike:exp=1699999999" -j REDIRECT --to-ports 2626',
      '-A SMTPSTRIKE -s 10.0.0.2/32 -p tcp -m comment --comment "smtpstrike:exp=never" -j DNAT --to-destination 192.0.2.1:2626',
      '-A SMTPSTRIKE -s 10.0.0.3/32 -j ACCEPT',
    ].join('\n'),
  );
  assert.deepEqual(
    nat.map((r) => [r.addr, r.exp]),
    [
      ['10.0.0.1', 1_699_999_999],
      ['10.0.0.2', null],
    ],
  );
  const ops = normalizeOps([{ op: 'add', addr: '10.0.0.9', timeoutSec: 60 }]);
  assert.equal(
    it.restoreScript([], ops, { rules: nat, target: it.natTargetArgs(4)! }),
    '*filter\n-A SMTPSTRIKE -s 10.0.0.9/32 -p tcp -m comment --comment smtpstrike:exp=1700000060 -j REJECT --reject-with tcp-reset\nCOMMIT\n' +
      '*nat\n-D SMTPSTRIKE -s 10.0.0.1/32 -p tcp -m comment --comment smtpstrike:exp=1699999999 -j REDIRECT --to-ports 2626\n' +
      '-A SMTPSTRIKE -s 10.0.0.9/32 -p tcp -m comment --comment smtpstrike:exp=1700000060 -j REDIRECT --to-ports 2626\nCOMMIT\n',
  );
  assert.equal(it.restoreScript([], ops), new IptablesBlocker({ ports: [25, 587], runner: new NullRunner(), now: () => now }).restoreScript([], ops));
});
