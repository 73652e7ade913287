/**
 * sshd parser (src/accounts/ssh.ts): sample lines as test vectors, fail2ban-filter style.
 * Each vector is a whole log line and what must come out of it; times are UTC, year 2023 where
 * the line has none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLine } from '../src/accounts/parse-logs.js';
import type { Service } from '../src/accounts/types.js';
import { checkVectors, type Vector } from './fixtures/accounts/check-vectors.js';

const SERVICE: Service = 'ssh';
const SSH_VECTORS: Vector[] = [
  // --- successes: every method, the key info after ssh2, IPv6, FQDN hosts, the three timestamp kinds
  [
    'Feb 13 00:15:16 mail sshd[1556]: Accepted password for hill from 37.188.232.65 port 52100 ssh2',
    { outcome: 'success', user: 'hill', ip: '37.188.232.65', method: 'password', time: '2023-02-13T00:15:16', guessed: true },
  ],
  [
    'Sep  6 09:57:21 bullseye sshd[581]: Accepted publickey for vagrant from 1.2.3.4 port 56296 ssh2: RSA SHA256:1M4RzhMyWuFS/86uPY/ce2prh/dVTHW7iD2RhpquOZA',
    { outcome: 'success', user: 'vagrant', ip: '1.2.3.4', method: 'publickey', time: '2023-09-06T09:57:21' },
  ],
  [
    'Nov 28 09:16:03 srv sshd[32307]: Accepted publickey for git from 192.0.2.1 port 57904 ssh2: DSA 36:48:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx:xx',
    { outcome: 'success', user: 'git', ip: '192.0.2.1', method: 'publickey' },
  ],
  [
    'Mar  1 10:00:00 host.example.org sshd[77]: Accepted keyboard-interactive/pam for alice from 2001:db8::a11:beef:7ac0 port 50000 ssh2',
    { outcome: 'success', user: 'alice', ip: '2001:db8::a11:beef:7ac0', method: 'keyboard-interactive/pam' },
  ],
  [
    'Mar  1 10:00:01 gw sshd[78]: Accepted password for bob from ::ffff:203.0.113.9 port 50001 ssh2',
    { outcome: 'success', user: 'bob', ip: '203.0.113.9', method: 'password' },
  ],
  [
    'Mar  1 10:00:02 gw sshd[79]: Accepted password for carol from 2001:DB8:0:0:0:0:0:1%eth0 port 50002 ssh2',
    { outcome: 'success', user: 'carol', ip: '2001:db8::1', method: 'password' },
  ],
  [
    'Jul  3 14:59:17 host sshd-session[1571]: Accepted publickey for root from 192.0.2.1 port 56502 ssh2: ED25519 SHA256:abc',
    { outcome: 'success', user: 'root', ip: '192.0.2.1', method: 'publickey' },
  ],
  [
    '2023-11-14T00:20:42.738197+01:00 myserver sshd[1112652]: Accepted password for dave from 198.51.100.7 port 4022 ssh2',
    { outcome: 'success', user: 'dave', ip: '198.51.100.7', time: '2023-11-13T23:20:42.738', guessed: false },
  ],
  [
    '2023-02-13T00:15:16+0100 mail.example.com sshd[42]: Accepted gssapi-with-mic for erin from 198.51.100.8 port 4023 ssh2',
    { outcome: 'success', user: 'erin', ip: '198.51.100.8', method: 'gssapi-with-mic', time: '2023-02-12T23:15:16', guessed: false },
  ],
  ['Feb  3 07:00:00 sshd[8148]: Accepted password for frank from 198.51.100.9 port 1 ssh2', { outcome: 'success', user: 'frank', ip: '198.51.100.9' }],
  [
    'Mar 29 05:59:23 dusky sshd[20878]: [ID 800047 auth.info] Accepted keyboard-interactive for james from 205.186.180.55 port 42742 ssh2',
    { outcome: 'success', user: 'james', ip: '205.186.180.55' },
  ],
  [
    '<38>1 2019-07-08T17:40:16.954167-04:00 hostname.example.com sshd 57915 - - Accepted publickey for gina from 192.0.2.1 port 59197 ssh2',
    { outcome: 'success', user: 'gina', ip: '192.0.2.1', time: '2019-07-08T21:40:16.954' },
  ],
  // No timestamp at all (journal message exports): the file's time stands in, marked guessed.
  [
    'srv sshd[1556]: Accepted password for rda from 192.0.2.113 port 52100 ssh2',
    { outcome: 'success', user: 'rda', ip: '192.0.2.113', time: '2023-12-31T00:00:00', guessed: true, noYear: true },
  ],

  // --- failures
  [
    'Feb 25 14:34:10 belka sshd[31602]: Failed password for invalid user ROOT from 194.117.26.69 port 50273 ssh2',
    { outcome: 'failure', user: 'ROOT', ip: '194.117.26.69', method: 'password', reason: 'failed' },
  ],
  [
    'Feb 25 14:34:11 belka sshd[31603]: Failed password for invalid user ROOT from aaaa:bbbb:cccc:1234::1:1',
    { outcome: 'failure', user: 'ROOT', ip: 'aaaa:bbbb:cccc:1234::1:1', reason: 'failed' },
  ],
  [
    'Jul 05 18:22:44 mercury sshd[4669]: Failed publickey for invalid user graysky from 127.0.0.1 port 37954 ssh2: RSA SHA256:v3dpapGleDaUKf$4V1vKyR9ZyUgjaJAmoCTcb2PLljI',
    { outcome: 'failure', user: 'graysky', ip: '127.0.0.1', method: 'publickey' },
  ],
  [
    'Apr 30 01:42:12 Jamess-iMac.local sshd[2554]: Failed keyboard-interactive/pam for invalid user jamedds from 205.186.180.77 port 33723 ssh2',
    { outcome: 'failure', user: 'jamedds', ip: '205.186.180.77', method: 'keyboard-interactive/pam' },
  ],
  // A user name that plants a fake address: the real one ends the line.
  [
    'Nov 11 08:04:52 redbamboo sshd[2737]: Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2',
    { outcome: 'failure', user: 'test from 10.10.1.2 port 55555 ssh2', ip: '127.0.0.1' },
  ],
  [
    'Nov 11 08:04:52 redbamboo sshd[2737]: Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2',
    { outcome: 'failure', user: 'test', ip: '127.0.0.1' },
  ],
  [
    'Jul 20 14:42:12 localhost sshd[22708]: Invalid user ftp from 192.0.2.2 port 37220',
    { outcome: 'failure', user: 'ftp', ip: '192.0.2.2', reason: 'invalid-user' },
  ],
  [
    'Jun  6 04:17:04 host sshd[1189074]: Invalid user  from 192.0.2.68 port 34916',
    { outcome: 'failure', user: null, ip: '192.0.2.68', reason: 'invalid-user' },
  ],
  [
    'Apr 16 22:01:15 al-ribat sshd[5154]: User root from 46.45.128.3 not allowed because listed in DenyUsers',
    { outcome: 'failure', user: 'root', ip: '46.45.128.3', reason: 'not-allowed' },
  ],
  ['Jan  5 01:31:41 www sshd[1643]: ROOT LOGIN REFUSED FROM ::ffff:1.2.3.4', { outcome: 'failure', user: 'root', ip: '1.2.3.4', reason: 'root-refused' }],
  [
    'Nov  2 15:40:14 workshop sshd[28179]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=5.33.63.160 user=workshop',
    { outcome: 'failure', user: 'workshop', ip: '5.33.63.160', reason: 'pam' },
  ],
  [
    'Mar  7 18:53:23 bar sshd[1558]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser=sudoer rhost=192.0.2.114',
    { outcome: 'failure', user: 'sudoer', ip: '192.0.2.114', reason: 'pam' },
  ],
  [
    'Apr 29 13:53:38 Jamess-iMac.local sshd[47831]: error: PAM: Authentication failure for james from 205.186.180.99 via 192.168.1.201',
    { outcome: 'failure', user: 'james', ip: '205.186.180.99', reason: 'pam' },
  ],

  // --- not outcomes
  ['Nov 28 09:16:03 srv sshd[32307]: Postponed publickey for git from 192.0.2.1 port 57904 ssh2 [preauth]', 'ignored'],
  ['Nov 28 09:16:03 srv sshd[32307]: Failed none for invalid user x from 192.0.2.1 port 57904 ssh2', 'ignored'],
  ['Jul 17 23:03:05 srv sshd[1296]: Connection closed by authenticating user root 192.0.2.10 port 46038 [preauth]', 'ignored'],
  ['Mar  7 18:53:20 bar sshd[1556]: pam_unix(sshd:session): session opened for user rda by (uid=0)', 'ignored'],
  ['Feb 13 00:15:16 mail CRON[1]: pam_unix(cron:session): session opened for user root', 'ignored'],
  // A host name where the address belongs (UseDNS yes): counted as unparseable, no event.
  ['May 29 20:56:52 imago sshd[28732]: Accepted password for stefanor from example.com port 22 ssh2', 'unparseable'],
  ['Jun 21 16:47:48 digital-mlhhyiqscv sshd[13709]: Failed password for x from 192.030.0.6 port 1 ssh2', 'unparseable'],
  ['-- Journal begins at Mon 2023-02-13 00:00:00 CET. --', 'unparseable'],
  ['Invalid user inexu from 6.6.6.0', 'unparseable'],
];

checkVectors(SERVICE, SSH_VECTORS);

test('ssh: mode filter — an sshd line is ignored unless ssh is asked for', () => {
  const line = SSH_VECTORS[0]![0];
  assert.equal(parseLine(line, { mode: 'exim', tz: 'UTC', year: 2023 }).verdict, 'ignored');
  assert.equal(parseLine(line, { mode: 'ssh', tz: 'UTC', year: 2023 }).verdict, 'success');
  assert.equal(parseLine(line, { mode: ['ssh', 'dovecot'], tz: 'UTC', year: 2023 }).verdict, 'success');
});
