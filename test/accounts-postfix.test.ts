/**
 * Postfix parser (src/accounts/postfix.ts): sample lines as test vectors, fail2ban-filter style.
 */
import { checkVectors, type Vector } from './fixtures/accounts/check-vectors.js';

const POSTFIX_VECTORS: Vector[] = [
  // --- successes: the smtpd line of an authenticated client's message
  ['Feb 13 00:15:16 mail postfix/submission/smtpd[1234]: 4F1A2B3C4D: client=unknown[37.188.232.65], sasl_method=PLAIN, sasl_username=hill',
    { outcome: 'success', user: 'hill', ip: '37.188.232.65', method: 'PLAIN', time: '2023-02-13T00:15:16', guessed: true }],
  ['Feb 13 00:15:17 mail.example.com postfix/smtpd[1235]: 4Xk2Ld0Yb3z9sKq: client=client.example.net[2001:db8::7]:51234, sasl_method=LOGIN, sasl_username=hill@example.com, sasl_sender=<hill@example.com>',
    { outcome: 'success', user: 'hill@example.com', ip: '2001:db8::7', method: 'LOGIN' }],
  ['2023-02-13T00:15:18.123456+01:00 mail postfix/smtps/smtpd[99]: 0ABCDEF012: client=x[198.51.100.44], sasl_method=CRAM-MD5, sasl_username=carl',
    { outcome: 'success', user: 'carl', ip: '198.51.100.44', time: '2023-02-12T23:15:18.123', guessed: false }],

  // --- failures
  ['Dec  2 22:24:22 hel postfix/smtpd[7676]: warning: 114-44-142-233.dynamic.hinet.net[114.44.142.233]: SASL CRAM-MD5 authentication failed: PDc3OTEwNTkyNTEyMzA2NDIuMTIyODI1MzA2MUBoZWw+',
    { outcome: 'failure', user: null, ip: '114.44.142.233', method: 'CRAM-MD5', reason: 'sasl' }],
  ['Sep  6 00:44:57 trianon postfix/submission/smtpd[11538]: warning: unknown[82.221.106.233]: SASL login authentication failed: UGFzc3dvcmQ6',
    { outcome: 'failure', user: null, ip: '82.221.106.233', method: 'LOGIN' }],
  ['Aug 4 16:47:52 mail3 postfix/smtpd[31152]: warning: unknown[192.0.2.237]:55729: SASL LOGIN authentication failed: authentication failure',
    { outcome: 'failure', user: null, ip: '192.0.2.237' }],
  ['Nov  4 09:11:01 mail postfix/smtpd[1234]: warning: unknown[192.0.2.152]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=admin',
    { outcome: 'failure', user: 'admin', ip: '192.0.2.152' }],
  ['Jan 29 08:11:45 mail postfix-incoming/smtpd[10752]: warning: unknown[2001:db8::9]: SASL PLAIN authentication failed:',
    { outcome: 'failure', user: null, ip: '2001:db8::9', method: 'PLAIN' }],

  // --- day padding: Postfix's own maillog_file zero-pads the day (`Dec 05`), syslog space-pads it
  // (`Dec  5`), some relays write one digit (`Dec 5`): all three are the same moment
  ['Dec 05 04:09:00 mail postfix/submission/smtpd[4242]: warning: unknown[192.0.2.5]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice',
    { outcome: 'failure', user: 'alice', ip: '192.0.2.5', time: '2023-12-05T04:09:00', guessed: true }],
  ['Dec  5 04:09:00 mail postfix/submission/smtpd[4242]: warning: unknown[192.0.2.5]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice',
    { outcome: 'failure', user: 'alice', ip: '192.0.2.5', time: '2023-12-05T04:09:00', guessed: true }],
  ['Dec 5 04:09:00 mail postfix/submission/smtpd[4242]: warning: unknown[192.0.2.5]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=alice',
    { outcome: 'failure', user: 'alice', ip: '192.0.2.5', time: '2023-12-05T04:09:00', guessed: true }],
  ['Dec 05 04:09:00 mail postfix/smtpd[4243]: 4F1A2B3C4E: client=unknown[192.0.2.6], sasl_method=PLAIN, sasl_username=bob',
    { outcome: 'success', user: 'bob', ip: '192.0.2.6', time: '2023-12-05T04:09:00', guessed: true }],

  // --- not outcomes
  ['Feb 13 00:15:16 mail postfix/smtpd[1234]: 4F1A2B3C4D: client=mx.example.org[198.51.100.50]', 'ignored'],
  ['Feb 13 00:15:16 mail postfix/qmgr[99]: 4F1A2B3C4D: from=<hill@example.com>, size=1234, nrcpt=1 (queue active)', 'ignored'],
  ['May 11 04:02:37 host1 postfix/smtpd[26897]: NOQUEUE: reject: RCPT from unknown[192.168.1.1]: 554 5.7.1 Service unavailable', 'ignored'],
  ['Feb 13 00:15:16 mail postfix/smtpd[1234]: warning: hostname x.example does not resolve to address 198.51.100.51', 'ignored'],
  ['Feb 13 00:15:16 mail postfix/smtpd[1234]: 4F1A2B3C4D: client=unknown[not-an-ip], sasl_method=PLAIN, sasl_username=x', 'unparseable'],
];

checkVectors('postfix', POSTFIX_VECTORS);
