/**
 * OpenWebMail parser (src/accounts/openwebmail.ts): sample lines as test vectors,
 * fail2ban-filter style. Format: `Www Mmm dd HH:MM:SS YYYY - [pid] (ip) user - event - detail`.
 */
import { checkVectors, type Vector } from './fixtures/accounts/check-vectors.js';

const OPENWEBMAIL_VECTORS: Vector[] = [
  [
    'Mon Feb 13 00:15:16 2023 - [73540] (37.188.232.65) hill - login - /cgi-bin/openwebmail/openwebmail-main.pl',
    { outcome: 'success', user: 'hill', ip: '37.188.232.65', method: 'webmail', time: '2023-02-13T00:15:16', guessed: true },
  ],
  ['Mon Feb  6 08:01:02 2023 - [73541] (2001:db8::10) anna - login - ', { outcome: 'success', user: 'anna', ip: '2001:db8::10', time: '2023-02-06T08:01:02' }],
  [
    'Sat Dec 28 19:04:03 2013 - [72926] (178.123.108.196) gsdfg - login error - no such user - loginname=gsdfg',
    { outcome: 'failure', user: 'gsdfg', ip: '178.123.108.196', reason: 'login-error', time: '2013-12-28T19:04:03' },
  ],
  [
    'Sat Dec 28 19:05:38 2013 - [73540] (178.123.108.196) myname - login error - auth_unix.pl, ret -4, Password incorrect',
    { outcome: 'failure', user: 'myname', ip: '178.123.108.196' },
  ],
  ["Sat Dec 28 19:03:53 2013 - [72926] (178.123.108.196) gsdfg - userinfo error - auth_unix.pl, ret -4, User gsdfg doesn't exist", 'ignored'],
  ['Mon Feb 13 00:20:00 2023 - [73540] (37.188.232.65) hill - logout - ', 'ignored'],
  ['Mon Feb 13 00:20:00 2023 - [73540] (mail.example.com) hill - login - ', 'unparseable'],
  ['Mon Feb 13 00:20:00 2023 garbage', 'unparseable'],
];

checkVectors('openwebmail', OPENWEBMAIL_VECTORS);
