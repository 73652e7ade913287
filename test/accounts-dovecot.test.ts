/**
 * Dovecot parser (src/accounts/dovecot.ts): sample lines as test vectors, fail2ban-filter style —
 * pop3/imap/submission/managesieve logins, syslogged as `dovecot:` or `dovecot[pid]:` or in
 * Dovecot's own log file, 2.2/2.3 and 2.4 wordings.
 */
import { checkVectors, type Vector } from './fixtures/accounts/check-vectors.js';

const DOVECOT_VECTORS: Vector[] = [
  // --- successes
  [
    'Feb 13 00:15:16 mail dovecot: imap-login: Login: user=<hill>, method=PLAIN, rip=37.188.232.65, lip=192.0.2.25, mpid=123, TLS, session=<sF+SszFtrD5Q8TzB>',
    { outcome: 'success', user: 'hill', ip: '37.188.232.65', method: 'PLAIN', time: '2023-02-13T00:15:16', proto: 'imap' },
  ],
  [
    'Oct 13 09:22:59 canyon dovecot[7508]: pop3-login: Info: Login: user=<test@yourdomain.net>, method=PLAIN, rip=172.17.0.1, lip=172.17.0.2, mpid=18, TLS, session=<PeYcgjjOGOisEQAB>',
    { outcome: 'success', user: 'test@yourdomain.net', ip: '172.17.0.1', proto: 'pop3' },
  ],
  [
    '2023-02-13T00:15:16.123456+01:00 mail.example.com dovecot[1]: submission-login: Login: user=<hill@example.com>, method=PLAIN, rip=2001:db8::5, lip=2001:db8::1, mpid=1, TLS, session=<x>',
    { outcome: 'success', user: 'hill@example.com', ip: '2001:db8::5', time: '2023-02-12T23:15:16.123', guessed: false, proto: 'submission' },
  ],
  [
    'Nov 26 09:40:43 imap-login: Info: Login: user=<n.spitsyna@example.net>, method=PLAIN, rip=::1, lip=::1, mpid=13643, secured',
    { outcome: 'success', user: 'n.spitsyna@example.net', ip: '::1', proto: 'imap' },
  ],
  [
    'Oct  5 10:22:28 (none) dovecot: imap-login: Login: user=<user@domain.com>, method=PLAIN, rip=::ffff:198.51.100.60, lip=127.0.0.1, mpid=16983, TLS',
    { outcome: 'success', user: 'user@domain.com', ip: '198.51.100.60' },
  ],
  [
    'Feb 13 00:15:17 mail dovecot: managesieve-login: Login: user=<sieve>, method=LOGIN, rip=198.51.100.61, lip=192.0.2.25, mpid=5',
    { outcome: 'success', user: 'sieve', ip: '198.51.100.61', method: 'LOGIN', proto: 'managesieve' },
  ],
  [
    'Feb 13 00:15:18 proxy dovecot: imap-login: proxy(hill): started proxying to 192.0.2.50:143: user=<hill>, method=PLAIN, rip=198.51.100.62, lip=192.0.2.25',
    { outcome: 'success', user: 'hill', ip: '198.51.100.62', proto: 'imap' },
  ],

  // --- failures: login processes (2.3 "auth failed", 2.4 "auth_failed") and passdb lines
  [
    'Jun 13 16:30:54 platypus dovecot: imap-login: Disconnected (auth failed, 2 attempts): user=<username.bob>, method=PLAIN, rip=49.176.98.87, lip=113.212.99.194, TLS',
    { outcome: 'failure', user: 'username.bob', ip: '49.176.98.87', method: 'PLAIN', reason: 'auth-failed', count: 2, proto: 'imap' },
  ],
  [
    'Jun 14 00:48:21 platypus dovecot: imap-login: Disconnected (auth failed, 1 attempts): method=PLAIN, rip=59.167.242.100, lip=113.212.99.194, TLS: Disconnected',
    { outcome: 'failure', user: null, ip: '59.167.242.100', count: 1, proto: 'imap' },
  ],
  [
    'Jun 12 19:07:29 hostname dovecot[241]: imap-login: Login aborted: Connection closed (auth failed, 3 attempts in 16 secs) (auth_failed): user=<test>, method=PLAIN, rip=192.0.2.241, lip=203.0.113.104, TLS, session=<9ZHq02g3J8S60fan>',
    { outcome: 'failure', user: 'test', ip: '192.0.2.241', reason: 'auth-failed', count: 3, proto: 'imap' },
  ],
  [
    'Aug 29 03:17:18 server dovecot: submission-login: Client has quit the connection (auth failed, 1 attempts in 2 secs): user=<user1>, method=LOGIN, rip=2001:db8::133, lip=0.0.0.0',
    { outcome: 'failure', user: 'user1', ip: '2001:db8::133', method: 'LOGIN', proto: 'submission' },
  ],
  [
    '@400000004c91b044077a9e94 imap-login: Info: Aborted login (auth failed, 1 attempts): user=<martin@example.de>, method=CRAM-MD5, rip=80.187.101.33, lip=80.254.129.240, TLS',
    { outcome: 'failure', user: 'martin@example.de', ip: '80.187.101.33', time: '2010-09-16T05:50:50', guessed: false, proto: 'imap' },
  ],
  [
    'Jan 29 05:13:40 mail dovecot: auth-worker(31326): pam(username,1.2.3.4): unknown user',
    { outcome: 'failure', user: 'username', ip: '1.2.3.4', reason: 'unknown-user', proto: null },
  ],
  [
    'Apr 29 15:54:19 mail dovecot: auth-worker(14864): conn unix:auth-worker (pid=14830,uid=109): auth-worker<6>: pam(caliph@example.com,5.34.207.151): pam_authenticate() failed: Authentication failure (Password mismatch?)',
    { outcome: 'failure', user: 'caliph@example.com', ip: '5.34.207.151', reason: 'pam' },
  ],
  [
    'Jun 11 13:57:17 main dovecot: auth: sql(admin@example.ru,192.168.144.226,<6rXunFtu493AqJDi>): Password mismatch',
    { outcome: 'failure', user: 'admin@example.ru', ip: '192.168.144.226', reason: 'password-mismatch', proto: null },
  ],
  [
    'Aug 30 00:10:57 auth(info@example.com,192.0.2.110,sasl:login)<CvN+E95Uf4e7eEnj>: Info: sql: Password mismatch (given password: XxxxXXxx123)',
    { outcome: 'failure', user: 'info@example.com', ip: '192.0.2.110', reason: 'password-mismatch' },
  ],
  [
    '2025-01-01T17:05:06.533969+01:00 mail2 dovecot: auth: passwd-file(karen@co.uk,192.168.1.1): unknown user (SHA1 of given password: 21bd12)',
    { outcome: 'failure', user: 'karen@co.uk', ip: '192.168.1.1', reason: 'unknown-user' },
  ],
  [
    'Mar 23 06:10:52 auth: Info: ldap(dog,52.37.139.121,): invalid credentials',
    { outcome: 'failure', user: 'dog', ip: '52.37.139.121', reason: 'password-mismatch' },
  ],
  [
    '@400000004c91b044077a9e94 dovecot-auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=rhost=1.2.3.4 rhost=192.0.43.10',
    { outcome: 'failure', user: null, ip: '192.0.43.10', reason: 'pam' },
  ],
  [
    'Apr 19 05:22:20 vm5 auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=informix rhost=80.255.3.104',
    { outcome: 'failure', user: null, ip: '80.255.3.104', reason: 'pam' },
  ],

  // --- the protocol and the attempts of login-process lines (issue 11: --services imap,pop3)
  [
    'Jan 13 20:51:05 valhalla dovecot: pop3-login: Disconnected: Inactivity (auth failed, 1 attempts in 178 secs): user=<ivo>, method=PLAIN, rip=1.2.3.4, lip=1.1.2.2, session=<6brQWt/vCADDhP/+>',
    { outcome: 'failure', user: 'ivo', ip: '1.2.3.4', reason: 'auth-failed', count: 1, proto: 'pop3' },
  ],
  [
    'Oct 12 15:54:33 canyon dovecot: pop3-login: Info: Disconnected: Disconnected: Too many bad commands (auth failed, 2 attempts in 0 secs): user=<test@yourdomain.net>, rip=172.17.0.1, lip=172.17.0.2, session=<02qW3CnO5tWsEQAB>',
    { outcome: 'failure', user: 'test@yourdomain.net', ip: '172.17.0.1', reason: 'auth-failed', count: 2, proto: 'pop3' },
  ],
  [
    'Jan 29 09:33:58 pop3-login: Info: Aborted login (auth failed, 1 attempts in 2 secs): user=<grace>, method=PLAIN, rip=212.9.180.3',
    { outcome: 'failure', user: 'grace', ip: '212.9.180.3', count: 1, proto: 'pop3' },
  ],
  [
    'Aug 30 00:11:05 imap-login: Info: Login aborted: Connection closed (auth failed, 3 attempts in 16 secs) (auth_failed): user=<info@example.com>, method=PLAIN, rip=192.0.2.110, lip=0.0.0.0, TLS, session=<CvN+E95Uf4e7eEnj>',
    { outcome: 'failure', user: 'info@example.com', ip: '192.0.2.110', count: 3, proto: 'imap' },
  ],
  [
    'Aug 29 15:33:53 server dovecot: managesieve-login: Disconnected: Too many invalid commands. (auth failed, 1 attempts in 2 secs): user=<myself>, method=PLAIN, rip=192.0.2.100, lip=0.0.0.0, TLS',
    { outcome: 'failure', user: 'myself', ip: '192.0.2.100', count: 1, proto: 'managesieve' },
  ],
  [
    'Jul 17 09:21:22 mailproxy dovecot: imap-login: Disconnected (proxy dest auth failed): user=<rtomes@acenet.com.au>, method=PLAIN, rip=192.0.2.4, lip=192.168.1.2, session=<NTI4FiZxcQCSud4G>',
    { outcome: 'failure', user: 'rtomes@acenet.com.au', ip: '192.0.2.4', reason: 'auth-failed', count: 1, proto: 'imap' },
  ],
  [
    'Dec 05 03:36:20 auth: Info: passwd-file(alice,10.217.0.5): Password mismatch',
    { outcome: 'failure', user: 'alice', ip: '10.217.0.5', reason: 'password-mismatch', count: 1, proto: null },
  ],
  [
    'Jun 15 13:57:41 hostname dovecot: auth-worker(3270): conn unix:auth-worker (pid=27359,uid=97): auth-worker<128>: pam(webapps,192.0.2.7): pam_authenticate() failed: Authentication failure (Password mismatch?)',
    { outcome: 'failure', user: 'webapps', ip: '192.0.2.7', reason: 'pam', proto: null },
  ],
  // a line claiming absurdly many attempts stands for MAX_LOGIN_ATTEMPTS (100) at most
  [
    'Jan 15 08:00:00 server dovecot: imap-login: Disconnected (auth failed, 999999999999 attempts): user=<a>, method=PLAIN, rip=192.0.2.1, lip=10.0.0.1',
    { outcome: 'failure', user: 'a', ip: '192.0.2.1', count: 100, proto: 'imap' },
  ],

  // --- not outcomes
  ['Dec 12 11:19:11 dunnart dovecot: pop3-login: Aborted login (tried to use disabled plaintext auth): rip=190.210.136.21, lip=113.212.99.193', 'ignored'],
  ['Jun 13 20:48:11 platypus dovecot: pop3-login: Disconnected (no auth attempts): rip=121.44.24.254, lip=113.212.99.194, TLS: Disconnected', 'ignored'],
  ['Apr 16 01:28:35 spirit dovecot: imap(veron@example.com.sg)<126731><wGrb4J+GCc16C4kE>: Logged out in=166 out=10854', 'ignored'],
  ['Feb 13 00:15:16 mail dovecot: master: Dovecot v2.3.19.1 (9b53102964) starting up for imap, pop3', 'ignored'],
  ['Feb 13 00:15:16 mail dovecot: imap-login: Login: user=<x>, method=PLAIN, rip=example.com, lip=1.1.1.1', 'unparseable'],
];

checkVectors('dovecot', DOVECOT_VECTORS);
