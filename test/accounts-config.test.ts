/**
 * The config file's `accounts:` section (src/config/config-file.ts): every key, whitelists, and
 * line-numbered errors; the flat keys of replay/watch keep working beside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError, parseAccountsConfig, parseConfig, parseConfigFile } from '../src/config/config-file.js';

test('config accounts: every key and every whitelist kind', () => {
  const a = parseAccountsConfig(
    `hitcount: 3
accounts:
  mode: dovecot
  limit: -3
  geoip: 1
  geoip_db: [/usr/share/GeoIP/GeoLite2-City.mmdb, /usr/share/GeoIP/GeoLite2-ASN.mmdb]
  logs:
    - /var/log/mail.log
    - /var/log/mail.log.1
  tz: "+01:00"
  year: 2023
  nodate: true
  nouser: false
  whitelist:
    ips: [192.0.2.0/24, 2001:db8::/32, 198.51.100.7]
    users: [backup, 12345]
    countries: [cz, SK]
    asns: [AS16019, 5610, as3215]
    isps: ["T-Mobile Czech", Vodafone]
`,
    'c.yaml',
  );
  assert.deepEqual(Object.fromEntries(a.options), {
    mode: 'dovecot',
    limit: -3,
    geoip: 1,
    geoipDb: ['/usr/share/GeoIP/GeoLite2-City.mmdb', '/usr/share/GeoIP/GeoLite2-ASN.mmdb'],
    logs: ['/var/log/mail.log', '/var/log/mail.log.1'],
    tz: '+01:00',
    year: 2023,
    nodate: true,
    nouser: false,
  });
  assert.deepEqual(a.whitelist, {
    ips: ['192.0.2.0/24', '2001:db8::/32', '198.51.100.7'],
    users: ['backup', '12345'],
    countries: ['CZ', 'SK'],
    asns: [16019, 5610, 3215],
    isps: ['T-Mobile Czech', 'Vodafone'],
  });
});

test('config accounts: the flat keys are unaffected; an empty or absent section means defaults', () => {
  const f = parseConfigFile('hitcount: 4\naccounts:\n  limit: 1\n', 'c.yaml');
  assert.equal(f.options.get('hitcount'), 4);
  assert.equal(f.options.has('accounts'), false);
  assert.equal(parseConfig('hitcount: 4\naccounts:\n  limit: 1\n').get('hitcount'), 4);
  assert.equal(parseAccountsConfig('hitcount: 4\n').options.size, 0);
  assert.equal(parseAccountsConfig('accounts:\n').options.size, 0);
  assert.deepEqual(parseAccountsConfig('accounts:\n  whitelist:\n').whitelist.ips, []);
  assert.deepEqual(parseAccountsConfig('accounts:\n  whitelist:\n    users:\n').whitelist.users, []);
});

test('config accounts: a bad section is rejected with its line and reason', () => {
  const cases: [string, number, RegExp][] = [
    ['accounts:\n  limt: 2\n', 2, /unknown key "accounts\.limt"/],
    ['accounts:\n  mode: smtp\n', 2, /accounts\.mode: must be one of exim, postfix, dovecot, ssh, apache, openwebmail, all/],
    ['accounts:\n  geoip: 3\n', 2, /accounts\.geoip: must be between 0 and 2/],
    ['accounts:\n  limit: lots\n', 2, /accounts\.limit: expected a whole number/],
    ['accounts:\n  logs: /var/log/mail.log\n', 2, /accounts\.logs: expected a list/],
    ['accounts: [1, 2]\n', 1, /accounts: expected a mapping/],
    ['accounts:\n  whitelist: [1.2.3.4]\n', 2, /accounts\.whitelist: expected a mapping/],
    ['accounts:\n  whitelist:\n    ip: [1.2.3.4]\n', 3, /unknown key "accounts\.whitelist\.ip" \(known: ips, users, countries, asns, isps\)/],
    ['accounts:\n  whitelist:\n    ips:\n      - 10.0.0.0/8\n      - 10.0.0.0/99\n', 5, /accounts\.whitelist\.ips: bad prefix length/],
    ['accounts:\n  whitelist:\n    countries: [CZ, Czechia]\n', 3, /"Czechia" is not a two-letter ISO 3166-1 country code/],
    ['accounts:\n  whitelist:\n    asns:\n      - AS16019\n      - T-Mobile\n', 5, /"T-Mobile" is not an AS number/],
    ['accounts:\n  whitelist:\n    users: hill\n', 3, /accounts\.whitelist\.users: expected a list/],
    ['accounts:\n  whitelist:\n    isps: [{a: 1}]\n', 3, /every item must be text or a number/],
    ['hitcont: 3\naccounts:\n  limit: 1\n', 1, /unknown key "hitcont".*accounts/],
  ];
  for (const [text, line, why] of cases) {
    assert.throws(
      () => parseAccountsConfig(text, 'c.yaml'),
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

test('config accounts: the shipped example config (contrib/config.yaml) stays valid', () => {
  const text = readFileSync('contrib/config.yaml', 'utf8');
  parseAccountsConfig(text, 'contrib/config.yaml');
  parseConfig(text, 'contrib/config.yaml');
});
