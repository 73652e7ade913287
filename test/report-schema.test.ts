/**
 * The report's JSON against its documented schema (src/report/report-doc.ts): the JSON that
 * `smtpstrike report --json` writes on the fixtures has, at every object, exactly the keys of the
 * type at that place (optional ones may be absent), and every one of those keys carries TSDoc.
 * The types are read with the TypeScript compiler from the source, so the schema cannot drift
 * from the documentation, nor the output from either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { REPORT_SCHEMA_VERSION } from '../src/report/report-doc.js';
import { stateFileAt } from './support/report-rules.js';

const CLI = 'dist/src/cli.js';
const GEO = ['dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb', 'asn-ipv4-num.csv', 'asn-ipv6.csv'].flatMap((f) => ['--geoip-db', join('test/fixtures/geoip', f)]);
const SEED = ['mail.log', 'mainlog', 'auth.log', 'access.log', 'openwebmail.log'].map((f) => join('test/fixtures/accounts/seed', f));

function reportJson(args: string[]): unknown {
  const r = spawnSync(process.execPath, [CLI, 'report', ...(args.includes('--state') ? [] : ['--no-state']), '-q', '--json', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** The schema's types, from the source. */
function schema(): { checker: ts.TypeChecker; doc: ts.Type } {
  const file = 'src/report/report-doc.ts';
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(file)!;
  const doc = checker.getSymbolAtLocation(sf)!.exports!.get(ts.escapeLeadingUnderscores('ReportDoc'))!;
  return { checker, doc: checker.getDeclaredTypeOfSymbol(doc) };
}

class SchemaCheck {
  readonly problems = new Set<string>();
  readonly keysSeen = new Set<string>();

  constructor(private readonly checker: ts.TypeChecker) {}

  private members(t: ts.Type): readonly ts.Type[] {
    return t.isUnion() ? t.types : [t];
  }

  private fits(v: unknown, t: ts.Type): boolean {
    const f = t.flags;
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return true;
    if (v === null) return (f & ts.TypeFlags.Null) !== 0;
    if (typeof v === 'number') return (f & ts.TypeFlags.NumberLike) !== 0;
    if (typeof v === 'string') return (f & ts.TypeFlags.StringLike) !== 0 && (!t.isStringLiteral() || t.value === v);
    if (typeof v === 'boolean') return (f & ts.TypeFlags.BooleanLike) !== 0;
    if (Array.isArray(v)) return this.checker.isArrayType(t) || this.checker.isTupleType(t);
    return (f & ts.TypeFlags.Object) !== 0 && !this.checker.isArrayType(t) && !this.checker.isTupleType(t);
  }

  /** The object type among `cands` whose keys are exactly `keys` (optional ones may be missing). */
  private objectFor(keys: readonly string[], cands: readonly ts.Type[], obj: Record<string, unknown>): ts.Type | null {
    for (const t of cands) {
      const props = this.checker.getPropertiesOfType(t);
      const names = new Set(props.map((p) => p.name));
      if (!keys.every((k) => names.has(k))) continue;
      if (!props.every((p) => keys.includes(p.name) || (p.flags & ts.SymbolFlags.Optional) !== 0)) continue;
      // A discriminant (`verdict: 'SUSPECT'`) must match too.
      if (!props.every((p) => !(p.name in obj) || this.members(this.propType(p)).some((m) => this.fits(obj[p.name], m)))) continue;
      return t;
    }
    return null;
  }

  private propType(p: ts.Symbol): ts.Type {
    return this.checker.getTypeOfSymbol(p);
  }

  check(v: unknown, t: ts.Type, path: string): void {
    const cands = this.members(t).filter((m) => this.fits(v, m));
    if (cands.length === 0) {
      this.problems.add(`${path.replace(/^doc\d+/, '$')}: ${JSON.stringify(v)?.slice(0, 60)} is not a ${this.checker.typeToString(t)}`);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const generic = path.replace(/\.\d+/g, '[]').replace(/^doc\d+/, '$');
    if (Array.isArray(v)) {
      const arr = cands[0]!;
      if (this.checker.isTupleType(arr)) {
        const els = this.checker.getTypeArguments(arr as ts.TypeReference);
        v.forEach((x, i) => this.check(x, els[i] ?? els[els.length - 1]!, `${path}.${i}`));
      } else {
        const el = this.checker.getTypeArguments(arr as ts.TypeReference)[0]!;
        v.forEach((x, i) => this.check(x, el, `${path}.${i}`));
      }
      return;
    }
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    const ot = this.objectFor(keys, cands, obj);
    if (!ot) {
      const expected = cands
        .map((c) =>
          this.checker
            .getPropertiesOfType(c)
            .map((p) => p.name)
            .join(','),
        )
        .join(' | ');
      this.problems.add(`${generic}: keys ${keys.join(',')} are not those of ${this.checker.typeToString(t)} (${expected})`);
      return;
    }
    for (const p of this.checker.getPropertiesOfType(ot)) {
      if (!(p.name in obj)) continue;
      this.keysSeen.add(`${generic}.${p.name}`);
      const doc = ts.displayPartsToString(p.getDocumentationComment(this.checker)).trim();
      if (doc === '') this.problems.add(`${generic}.${p.name}: no TSDoc`);
      this.check(obj[p.name], this.checker.getTypeOfSymbol(p), `${path}.${p.name}`);
    }
  }
}

test('report --json: exactly the keys of the documented schema (report-doc.ts), each documented, on the fixtures', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstrike-schema-'));
  try {
    const wl = join(dir, 'config.yaml');
    writeFileSync(wl, 'accounts:\n  whitelist:\n    ips: [81.2.69.160, 192.168.0.0/16]\n    countries: [CZ]\n');
    // A watch state file: a block and stamps of a v4 address and an IPv6 prefix (as in report-units.test.ts).
    const T = 1_790_000_000;
    const state = join(dir, 'state.json');
    writeFileSync(state, JSON.stringify(stateFileAt(T)));
    const mail = join(dir, 'mail.log');
    writeFileSync(
      mail,
      `${new Date(T * 1000).toISOString().replace('.000', '')} mx postfix/smtpd[1]: warning: unknown[203.0.113.5]: SASL LOGIN authentication failed: x, sasl_username=alice\n`,
    );
    const docs = [
      reportJson(['-c', '/dev/null', ...GEO, ...['report.pcap', 'postfix.log', 'dovecot.log'].map((f) => join('pcaps/report', f))]),
      reportJson(['-c', '/dev/null', ...GEO, ...['report-tls.pcap', 'postfix.log', 'dovecot.log'].map((f) => join('pcaps/report-tls', f))]),
      reportJson(['-c', wl, ...GEO, '--log-year', '2023', '--log-tz', 'UTC', '--limit', '-2', ...SEED]),
      reportJson(['-c', '/dev/null', '-g', '0', '--log-year', '2023', '--limit', '1', ...SEED]),
      reportJson(['-c', '/dev/null', '-g', '0', '--state', state, mail]),
      reportJson(['-c', '/dev/null', '-g', '0', '--logs', '/dev/null', 'test/fixtures/tarpit/watch.log']),
    ];
    const { checker, doc } = schema();
    const c = new SchemaCheck(checker);
    docs.forEach((d, i) => {
      assert.equal((d as { version: number }).version, REPORT_SCHEMA_VERSION);
      c.check(d, doc, `doc${i}`); // problems and keys are named from \`$\`, the document
    });
    assert.deepEqual([...c.problems], []);
    // The fixtures reach every verdict and the nested parts of the schema, so the check means something.
    for (const k of [
      'verdicts[].addresses[].failures_before',
      'verdicts[].rules',
      'verdicts[].over_threshold',
      'verdicts[].distributed',
      'addresses[].geo.place',
      'addresses[].events[].outcome',
      'blind_spots.opaque_sessions.addresses[].ports',
      'blind_spots.periods[].addresses[].ip',
      'countries[].attacked',
      'inputs.logs[].sessionsDropped',
      'inputs.captures[].packets',
      'inputs.state.failure_stamps',
      'verdicts[].blocks[].source',
      'clock.estimate.sample',
      'spans.wire.intervals',
      'options.tempfail_strikes',
      'tarpit.attackers[].usernames_more',
      'tarpit.attackers[].first_ts',
      'tarpit.refused.per_address',
      'tarpit.wire_excluded.successes',
      'tarpit.files[].garbage',
    ]) {
      assert.ok(c.keysSeen.has(`$.${k}`), `${k} checked`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
