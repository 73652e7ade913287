import { readFileSync } from 'node:fs';

/**
 * The smallest client the CrowdSec Local API needs: Node's global fetch (Node ≥ 18), JSON in and
 * out, a timeout per request, typed answers through guard functions. Why not the npm client
 * (`crowdsec-client`): its current 1.2.0 declares `engines.node >=24` (we run on 20) and pulls
 * axios; 1.0.0 still ran on 18.12 but is a frozen old line. Four endpoints do not justify either
 * (native-notes/crowdsec.md).
 */

/** An HTTP or network failure of one LAPI call. `status` 0: no answer (refused, reset, timeout). */
export class LapiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body = '',
  ) {
    super(message);
    this.name = 'LapiError';
  }
  /** Worth retrying later: no answer, 5xx, 429 (408 too: the server gave up waiting). */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

export interface LapiHttpOptions {
  /** Base URL of the LAPI, e.g. `http://127.0.0.1:8080` (a trailing `/` is fine). */
  url: string;
  /** `NAME/VERSION`: the LAPI's login splits it on `/` and refuses anything but two parts. */
  userAgent: string;
  /** Per request (default 10 s): a hung LAPI must not hold the queue forever. */
  timeoutMs?: number;
  /** For tests. */
  fetchImpl?: typeof fetch;
}

export interface LapiRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
}

/** smtpstrike's version from package.json (read once), for the User-Agent. */
let cachedVersion: string | undefined;
export function smtpstrikeVersion(): string {
  if (cachedVersion === undefined) {
    cachedVersion = 'unknown';
    try {
      // dist/src/fleet/ → the package root; the same relative path holds in src/ under ts-node.
      const pkg: unknown = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') cachedVersion = pkg.version;
    } catch {
      // no package.json next to us (bundled): the UA still has its two parts
    }
  }
  return cachedVersion;
}

/** `smtpstrike/VERSION`, with any `/` in the version replaced: a third part fails the login. */
export function smtpstrikeUserAgent(version = smtpstrikeVersion()): string {
  return `smtpstrike/${version.replaceAll('/', '-') || 'unknown'}`;
}

export class LapiHttp {
  readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(readonly opts: LapiHttpOptions) {
    const u = new URL(opts.url); // throws on a bad URL at construction, not at the first block
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`crowdsec url must be http(s): ${opts.url}`);
    if (opts.userAgent.split('/').length !== 2) throw new Error(`User-Agent must be NAME/VERSION: ${opts.userAgent}`);
    this.base = u.href.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetchImpl = opts.fetchImpl ?? fetch;
  }

  /** One call; the JSON answer passed through `check` (which throws on a wrong shape). */
  async json<T>(req: LapiRequest, check: (v: unknown) => T): Promise<T> {
    const url = new URL(this.base + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent, Accept: 'application/json', ...req.headers };
    if (req.body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(url, {
        method: req.method,
        headers,
        body: req.body === undefined ? null : JSON.stringify(req.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `timeout after ${this.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
      throw new LapiError(0, `${req.method} ${req.path}: ${why}`);
    }
    if (!res.ok) {
      throw new LapiError(res.status, `${req.method} ${req.path}: HTTP ${res.status} ${lapiMessage(text)}`, text.slice(0, 500));
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      throw new LapiError(res.status, `${req.method} ${req.path}: answer is not JSON: ${text.slice(0, 120)}`);
    }
    try {
      return check(parsed);
    } catch (err) {
      throw new LapiError(res.status, `${req.method} ${req.path}: unexpected answer: ${(err as Error).message}`);
    }
  }
}

/** The `message` of a LAPI error body (`{"code":401,"message":"..."}` or `{"message":"..."}`). */
function lapiMessage(text: string): string {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && 'message' in v && typeof v.message === 'string') return v.message;
  } catch {
    // not JSON: show the start of it
  }
  return text.slice(0, 120);
}

/** Guards for answer shapes (no `any`): a record, a string field, an array. */
export function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} is not an object`);
  return v as Record<string, unknown>;
}
