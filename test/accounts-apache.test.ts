/**
 * Apache/nginx access-log parser (src/accounts/apache.ts): sample lines as test vectors,
 * fail2ban-filter style. A line with an authenticated user is a success, 401/407 a failure.
 */
import { checkVectors, type Vector } from './fixtures/accounts/check-vectors.js';

const APACHE_VECTORS: Vector[] = [
  [
    '37.188.232.65 - hill [13/Feb/2023:00:15:16 +0100] "GET /roundcube/?_task=mail HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (X11; Linux x86_64)"',
    { outcome: 'success', user: 'hill', ip: '37.188.232.65', method: 'http', time: '2023-02-12T23:15:16', guessed: false },
  ],
  [
    '2001:db8::8 - hill [13/Feb/2023:00:15:17 +0000] "PROPFIND /dav/ HTTP/1.1" 207 900',
    { outcome: 'success', user: 'hill', ip: '2001:db8::8', time: '2023-02-13T00:15:17' },
  ],
  [
    'www.example.com:443 198.51.100.3 - alice [13/Feb/2023:00:15:18 +0000] "GET /private/ HTTP/1.1" 304 0 "-" "curl/8.0"',
    { outcome: 'success', user: 'alice', ip: '198.51.100.3' },
  ],
  [
    '198.51.100.4 - bob [13/Feb/2023:00:15:19 -0500] "GET /a\\"b HTTP/1.1" 403 10 "-" "x"',
    { outcome: 'success', user: 'bob', ip: '198.51.100.4', time: '2023-02-13T05:15:19' },
  ],
  ['::ffff:198.51.100.5 ident carl [13/Feb/2023:00:15:20 +0000] "GET / HTTP/1.0" 200 1', { outcome: 'success', user: 'carl', ip: '198.51.100.5' }],
  // 401 with credentials: refused. (sshguard's sample line, with a quoted user)
  [
    '10.42.42.39 - "jeff" [19/Apr/1943:03:14:13 +0000] "GET /secret-base HTTP/1.1" 401 356 "EvilAgent/2.0"',
    { outcome: 'failure', user: 'jeff', ip: '10.42.42.39', reason: 'http-401', time: '1943-04-19T03:14:13' },
  ],
  [
    '198.51.100.6 - mallory [13/Feb/2023:00:15:21 +0000] "GET /admin HTTP/1.1" 401 381 "-" "python-requests/2.31"',
    { outcome: 'failure', user: 'mallory', ip: '198.51.100.6', reason: 'http-401' },
  ],
  // --- not outcomes
  ['93.43.209.58 - - [08/Jun/2020:06:49:01 +0000] "GET / HTTP/1.0" 500 803 "-" "-"', 'ignored'],
  ['198.51.100.7 - - [13/Feb/2023:00:15:22 +0000] "GET /admin HTTP/1.1" 401 381 "-" "Mozilla/5.0"', 'ignored'],
  ['host.example.net - dave [13/Feb/2023:00:15:23 +0000] "GET / HTTP/1.1" 200 1', 'unparseable'],
  ['198.51.100.8 - erin [13/Feb/2023:00:15:24 +0000] "GET / HTTP/1.1', 'unparseable'],
  ['2022/04/05 13:25:31 [info] 8#8: *24790 client logged in, client: 174.233.1.144, server: 0.0.0.0:11587, login: "admin@example.com"', 'unparseable'],
];

checkVectors('apache', APACHE_VECTORS);
