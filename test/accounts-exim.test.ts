/**
 * Exim parser (src/accounts/exim.ts): sample lines as test vectors, fail2ban-filter style.
 * Successes are message arrivals (`<=`) with `A=` — any authenticator name — and the client
 * address from `H=`, never the server's `I=`.
 */
import { checkVectors, type Vector } from './fixtures/accounts/check-vectors.js';

const EXIM_VECTORS: Vector[] = [
  // --- successes
  [
    '2023-02-13 00:15:16 1pRZ3k-0001Ab-Cd <= hill@example.com H=(laptop) [37.188.232.65]:52544 I=[192.0.2.25]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:hill S=1234 id=abc@laptop',
    { outcome: 'success', user: 'hill', ip: '37.188.232.65', method: 'dovecot_plain', time: '2023-02-13T00:15:16', guessed: true },
  ],
  [
    '2023-02-13 00:15:17 [4242] 1pRZ3k-0001Ab-Ce <= joe@example.com H=mail.example.net [2001:db8::25]:52544 I=[2001:db8::1]:587 P=esmtpsa A=login:joe S=1',
    { outcome: 'success', user: 'joe', ip: '2001:db8::25', method: 'login' },
  ],
  [
    '1999-03-02 09:44:33 10HmaX-0005vi-00 <= userx@test.ex H=([10.0.0.5]) [198.51.100.20] P=esmtpa A=au1:userx S=328',
    { outcome: 'success', user: 'userx', ip: '198.51.100.20', method: 'au1', time: '1999-03-02T09:44:33' },
  ],
  [
    '2023-02-13 08:00:00 1pRZ3k-0001Ab-Cf <= x@example.com H=host.example.net (helo name) [198.51.100.21] P=esmtpa A=mylogin S=328',
    { outcome: 'success', user: null, ip: '198.51.100.21', method: 'mylogin' },
  ],
  [
    '2023-02-13 00:15:16 +0100 1pRZ3k-0001Ab-Cg <= a@example.com H=[203.0.113.5]:1025 P=esmtpsa A=plain:"first last" S=9',
    { outcome: 'success', user: 'first last', ip: '203.0.113.5', time: '2023-02-12T23:15:16', guessed: false },
  ],
  [
    '2023-02-13 00:15:16.345 1pRZ3k-0001Ab-Ch <= a@example.com H=[::ffff:203.0.113.6]:1025 P=esmtpsa A=plain:anne S=9',
    { outcome: 'success', user: 'anne', ip: '203.0.113.6', time: '2023-02-13T00:15:16.345' },
  ],
  [
    'Feb 13 00:15:18 mx1.example.com exim[3751]: 2023-02-13 00:15:18 1pRZ3k-0001Ab-Ci <= b@example.com H=(pc) [198.51.100.22]:5000 I=[192.0.2.25]:465 P=esmtpsa A=dovecot_login:bea S=9',
    { outcome: 'success', user: 'bea', ip: '198.51.100.22', time: '2023-02-13T00:15:18' },
  ],
  [
    'Feb 13 00:15:19 mx1 exim4[3751]: 1pRZ3k-0001Ab-Cj <= c@example.com H=(pc) [198.51.100.23] P=esmtpa A=cram_md5:cid S=9',
    { outcome: 'success', user: 'cid', ip: '198.51.100.23', time: '2023-02-13T00:15:19' },
  ],

  // --- failures
  [
    '2013-01-04 17:03:46 login authenticator failed for rrcs-24-106-174-74.se.biz.rr.com ([192.168.2.33]) [24.106.174.74]: 535 Incorrect authentication data (set_id=brian)',
    { outcome: 'failure', user: 'brian', ip: '24.106.174.74', method: 'login', reason: 'authenticator' },
  ],
  [
    '2014-12-02 03:00:23 auth_plain authenticator failed for (rom182) [193.254.202.35]:41556 I=[10.0.0.1]:25: 535 Incorrect authentication data (set_id=webmaster)',
    { outcome: 'failure', user: 'webmaster', ip: '193.254.202.35', method: 'auth_plain' },
  ],
  [
    '2013-06-12 03:57:58 login authenticator failed for (ylmf-pc) [120.196.140.45]: 535 Incorrect authentication data: 1 Time(s)',
    { outcome: 'failure', user: null, ip: '120.196.140.45' },
  ],
  [
    '2024-03-21 19:26:06 dovecot_login authenticator failed for (User) [2001:db8::66]:21298 I=[2001:db8::1]:465 Ci=30416: 535 Incorrect authentication data (set_id=u@example.com)',
    { outcome: 'failure', user: 'u@example.com', ip: '2001:db8::66' },
  ],
  [
    'mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server authenticator failed for ([192.0.2.17]) [192.0.2.27]: 535 Incorrect authentication data',
    { outcome: 'failure', user: null, ip: '192.0.2.27', time: '2021-07-17T23:20:49' },
  ],
  [
    'Jun 29 16:04:05 server exim[1234]: dovecot_plain authenticator failed for (mail.test.com) [202.137.142.181]:47807: 535 Incorrect authentication data (set_id=dave)',
    { outcome: 'failure', user: 'dave', ip: '202.137.142.181', method: 'dovecot_plain' },
  ],

  // --- not outcomes
  [
    '2023-02-13 00:15:20 1pRZ3k-0001Ab-Cd => bob@remote.example R=smarthost T=remote_smtp_smarthost H=relay.example.net [198.51.100.99] X=TLS1.3 A=plain C="250 OK"',
    'ignored',
  ],
  ['2023-02-13 00:15:21 1pRZ3k-0001Ab-Ck <= root@example.com U=root P=local S=400', 'ignored'],
  ['2023-02-13 00:15:22 1pRZ3k-0001Ab-Cl <= z@example.org H=mx.example.org [198.51.100.30] P=esmtps S=4000', 'ignored'],
  [
    '2016-03-18 00:34:06 [7513] SMTP protocol error in "AUTH LOGIN" H=(ylmf-pc) [45.32.34.167]:60723 I=[172.89.0.6]:587 AUTH command used when not advertised',
    'ignored',
  ],
  ['2023-02-13 00:15:23 1pRZ3k-0001Ab-Cd Completed', 'ignored'],
];

checkVectors('exim', EXIM_VECTORS);
