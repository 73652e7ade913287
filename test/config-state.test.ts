import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, parseConfig, parseBytes } from '../src/config/config-file.js';
import { addPipelineOptions, applyConfigValues } from '../src/commands/options.js';
import { defaultStrikeOptions, StrikeEngine } from '../src/strikes/strike-engine.js';
import { readState, writeStateAtomically } from '../src/strike-state/state-file.js';
import type { AuthEvent, ConnectEvent } from '../src/events.js';
import { EventLog, tempDir } from './support/synth.js';
import { synSnapshot } from './support/wire-snapshot.js';

test('config: every key maps to its option; sizes and lists are parsed', () => {
  const c = parseConfig(`# smtpstrike
ports: [25, 587, 465]
hitcount: 5
seconds: 600
whitelist:
  - 192.0.2.0/24
  - 2001:db8::/32
match: ["535 5.7.0 authentication failed"]
buffer_size: 128MiB
blocker: nft
dry_run: true
log_level: debug
`);
  assert.deepEqual(c.get('ports'), [25, 587, 465]);
  assert.equal(c.get('hitcount'), 5);
  assert.equal(c.get('seconds'), 600);
  assert.deepEqual(c.get('whitelist'), ['192.0.2.0/24', '2001:db8::/32']);
  assert.equal(c.get('bufferSize'), 128 * 1024 * 1024);
  assert.equal(c.get('dryRun'), true);
  assert.equal(parseBytes('64k'), 65536);
  assert.equal(parseConfig('').size, 0);
});

test('config: a bad file is rejected with the line and the reason', () => {
  const cases: [string, number, RegExp][] = [
    ['hitcount: 3\nhitcont: 4\n', 2, /unknown key "hitcont"/],
    ['ports: [25]\nseconds: soon\n', 2, /seconds: expected a whole number/],
    ['whitelist:\n  - 10.0.0.0/8\n  - 10.0.0.0/99\n', 2, /bad prefix length/],
    ['blocker: pf\n', 1, /must be one of nft, ipset, iptables/],
    ['dry_run: "yes"\n', 1, /expected true or false/],
    ['ports: [25, 70000]\n', 1, /TCP port/],
    ['seconds: [1\n', 1, /YAML/],
    ['- just\n- a list\n', 1, /mapping/],
  ];
  for (const [text, line, why] of cases) {
    assert.throws(
      () => parseConfig(text, 'c.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.line, line, `${JSON.stringify(text)} → line`);
        assert.match(e.message, why);
        assert.match(e.message, /^c\.yaml:\d+: /);
        return true;
      },
    );
  }
});

const wire = synSnapshot(25);
const fail = (client: string, ts: number, flow: number): AuthEvent => ({
  type: 'auth_failure',
  ts,
  flow,
  client,
  clientPort: 1,
  server: '192.0.2.25',
  serverPort: 25,
  code: 535,
  mech: null,
  user: null,
  text: '535',
  matched: false,
  inferred: null,
  wire,
});
const syn = (client: string, ts: number, flow: number): ConnectEvent => ({
  type: 'connect',
  ts,
  flow,
  client,
  clientPort: 1,
  server: '192.0.2.25',
  serverPort: 25,
  wire,
});

test('state: strikes and active blocks survive a restart; expired blocks do not come back', () => {
  const t = tempDir();
  try {
    const a = new StrikeEngine(defaultStrikeOptions(), new EventLog());
    for (let i = 0; i < 3; i++) a.event(fail('198.51.100.1', 1000 + i, i)); // blocked from 1002 until 2200
    a.event(fail('198.51.100.2', 1000, 10)); // one strike
    for (let i = 0; i < 3; i++) a.event(fail('198.51.100.3', 0 + i, 20 + i)); // blocked until 1200
    const file = join(t.dir, 'sub', 'state.json');
    writeStateAtomically(file, a.exportState(1500));
    const saved = readState(file)!;
    assert.equal(saved.entries.length, 2, 'only entries that still matter at t=1500 are saved');

    const log = new EventLog();
    const b = new StrikeEngine(defaultStrikeOptions(), log);
    const r = b.importState(saved, 1600);
    assert.deepEqual(
      r.blocks.map((x) => x.key),
      ['198.51.100.1'],
    );
    assert.equal(b.isBlocked('198.51.100.1', 1600), true);
    assert.equal(b.isBlocked('198.51.100.3', 1600), false);
    // The restored strike counts go on: one more failure of .2 is its Strike 2, a SYN of .1 is refused.
    b.event(fail('198.51.100.2', 1700, 30));
    b.event(syn('198.51.100.1', 1700, 31));
    assert.deepEqual(
      log.of('strike').map((s) => s.n),
      [2],
    );
    assert.equal(log.of('reject').length, 1);
    assert.equal(readState(join(t.dir, 'missing.json')), null);
    writeFileSync(join(t.dir, 'bad.json'), '{"version": 7}');
    assert.throws(() => readState(join(t.dir, 'bad.json')), /not a smtpstrike state file/);
  } finally {
    t.cleanup();
  }
});

test('the shipped example config (contrib/config.yaml) is valid', () => {
  const c = parseConfig(readFileSync('contrib/config.yaml', 'utf8'), 'contrib/config.yaml');
  assert.equal(c.get('blocker'), 'nft');
  assert.deepEqual(c.get('whitelist'), ['127.0.0.0/8', '::1/128']);
});

test('config values fill only what the command line left at its default; whitelist/match add up, once', () => {
  const cmd = new Command('x').exitOverride();
  addPipelineOptions(cmd);
  cmd.parse(['--hitcount', '5', '--whitelist', '192.0.2.1'], { from: 'user' });
  const cliLists = new Map<string, string[]>();
  const file = parseConfig('hitcount: 9\nseconds: 600\nwhitelist: [198.51.100.0/24]\n');
  applyConfigValues(cmd, file, { cliLists });
  applyConfigValues(cmd, file, { cliLists }); // a SIGHUP re-read must not add the file's entries twice
  const o = cmd.opts<{ hitcount: number; seconds: number; whitelist: string[] }>();
  assert.equal(o.hitcount, 5, 'command line wins');
  assert.equal(o.seconds, 600, 'config fills a default');
  assert.deepEqual(o.whitelist, ['192.0.2.1', '198.51.100.0/24']);
  const only = new Command('y').exitOverride();
  addPipelineOptions(only);
  only.parse([], { from: 'user' });
  applyConfigValues(only, file, { only: new Set(['seconds']) });
  assert.equal(only.opts<{ hitcount: number }>().hitcount, 3, 'keys outside `only` are ignored');
});
