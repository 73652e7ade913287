import type { RedisOptions } from 'ioredis';

/**
 * `--fleet URL` → ioredis connection options. We parse the URL ourselves instead of handing the
 * string to ioredis so that a bad URL fails at start with a reason, the password never reaches a log
 * (`redacted`), and Sentinel gets a URL form (ioredis takes Sentinel only as options):
 *
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]       plain TCP (port 6379, db 0 by default)
 *   rediss://…                                        the same over TLS (Node's trust store;
 *                                                     NODE_EXTRA_CA_CERTS adds a private CA)
 *   redis+sentinel://[[USER]:PASSWORD@]H1[:P1],H2[:P2]/MASTER[/DB]
 *                                                     the master Sentinel names MASTER (port 26379
 *                                                     by default); PASSWORD is the master's; the
 *                                                     Sentinels themselves are asked without one
 *   rediss+sentinel://…                                the same, TLS to the master
 */
export interface FleetUrl {
  options: RedisOptions;
  /** The URL with the password replaced by `***`, for logs. */
  redacted: string;
}

export function parseFleetUrl(url: string): FleetUrl {
  const m = /^(rediss?)(\+sentinel)?:\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?$/.exec(url.trim());
  if (!m)
    throw new Error(`fleet URL not understood: ${redactUserinfo(url)} (redis://[:PASSWORD@]HOST:PORT/DB, rediss://…, redis+sentinel://H1:P1,H2:P2/MASTER/DB)`);
  const [, scheme, sentinel, userinfo, hosts, path] = m;
  const tls = scheme === 'rediss';
  const options: RedisOptions = {};
  let redactedAuth = '';
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
    const pass = colon < 0 ? undefined : decodeURIComponent(userinfo.slice(colon + 1));
    // `redis://PASSWORD@host` (no colon) is how redis-cli and ioredis read a lone word: a password.
    if (pass === undefined) {
      if (user) options.password = user;
    } else {
      if (user) options.username = user;
      if (pass) options.password = pass;
    }
    redactedAuth = `${user && pass !== undefined ? encodeURIComponent(user) : ''}${options.password !== undefined ? ':***' : ''}@`;
  }
  const segs = (path ?? '').split('/').filter((s) => s !== '');
  const endpoints = hosts!.split(',').map((h) => hostPort(h, sentinel ? 26379 : 6379, url));
  if (sentinel) {
    const name = segs[0];
    if (!name) throw new Error(`fleet URL ${redactUserinfo(url)}: a Sentinel URL names the master: redis+sentinel://H1:P1,H2:P2/MASTER[/DB]`);
    options.sentinels = endpoints;
    options.name = decodeURIComponent(name);
    options.db = dbNumber(segs[1], url);
    if (segs.length > 2) throw new Error(`fleet URL ${redactUserinfo(url)}: path after /MASTER/DB`);
  } else {
    if (endpoints.length !== 1) throw new Error(`fleet URL ${redactUserinfo(url)}: several hosts need redis+sentinel://`);
    options.host = endpoints[0]!.host;
    options.port = endpoints[0]!.port;
    options.db = dbNumber(segs[0], url);
    if (segs.length > 1) throw new Error(`fleet URL ${redactUserinfo(url)}: path after /DB`);
  }
  if (tls) options.tls = sentinel ? {} : { servername: options.host! };
  const redacted = `${scheme}${sentinel ?? ''}://${redactedAuth}${hosts}${path ?? ''}`;
  return { options, redacted };
}

function hostPort(h: string, defPort: number, url: string): { host: string; port: number } {
  // [v6]:port, [v6], host:port, host
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(h);
  const port = m?.[3] === undefined ? defPort : Number(m[3]);
  if (!m || port < 1 || port > 65535) throw new Error(`fleet URL ${redactUserinfo(url)}: bad host or port: ${h}`);
  return { host: (m[1] ?? m[2])!, port };
}

function dbNumber(seg: string | undefined, url: string): number {
  if (seg === undefined) return 0;
  if (!/^\d{1,5}$/.test(seg)) throw new Error(`fleet URL ${redactUserinfo(url)}: the database is a number: /${seg}`);
  return Number(seg);
}

/** For error messages about a URL we could not parse: hide whatever sits before an `@`. */
function redactUserinfo(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
