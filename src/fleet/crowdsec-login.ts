import { asRecord, LapiError, type LapiHttp } from './crowdsec-http.js';

/**
 * A machine's JWT. The LAPI (gin-jwt, 1.4.6 and later) answers POST /v1/watchers/login
 * `{"code":200,"expire":"RFC 3339","token":"…"}`; the token lives one hour and is signed with a
 * secret that, unless CS_LAPI_SECRET is set, is drawn anew at every LAPI start — so a restarted
 * LAPI answers 401 to a token that has not expired. Hence: log in again a margin before `expire`,
 * and on any 401 (the pusher calls invalidate() and retries once).
 */
export interface LapiCredentials {
  machineId: string;
  password: string;
  /** Sent at login; the LAPI keeps them as the machine's scenarios (`cscli machines list`). */
  scenarios?: string[];
}

export interface LoginStats {
  logins: number;
  loginFailures: number;
  /** When the current token expires (ms since the epoch), 0 with none. */
  tokenExpiresAt: number;
}

export class LapiLogin {
  readonly stats: LoginStats = { logins: 0, loginFailures: 0, tokenExpiresAt: 0 };
  private tokenValue: string | null = null;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly http: LapiHttp,
    private readonly creds: LapiCredentials,
    /** Refresh this long before `expire` (default 5 min of the hour). */
    private readonly marginMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A valid token, logging in when there is none or it is about to expire; one login at a time. */
  async token(): Promise<string> {
    if (this.tokenValue !== null && this.now() < this.stats.tokenExpiresAt - this.marginMs) return this.tokenValue;
    this.pending ??= this.login().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** The LAPI refused the token (401): the next token() logs in again. */
  invalidate(): void {
    this.tokenValue = null;
    this.stats.tokenExpiresAt = 0;
  }

  private async login(): Promise<string> {
    const body: Record<string, unknown> = { machine_id: this.creds.machineId, password: this.creds.password };
    if (this.creds.scenarios?.length) body.scenarios = this.creds.scenarios;
    try {
      const ans = await this.http.json({ method: 'POST', path: '/v1/watchers/login', body }, parseLoginAnswer);
      this.stats.logins++;
      this.tokenValue = ans.token;
      this.stats.tokenExpiresAt = ans.expiresAt ?? this.now() + 3_600_000;
      return ans.token;
    } catch (err) {
      this.stats.loginFailures++;
      if (err instanceof LapiError && err.status === 401) {
        // gin-jwt says "incorrect Username or Password" for a bad password, an unknown or
        // unvalidated machine, and a User-Agent that is not NAME/VERSION alike.
        throw new LapiError(
          401,
          `${err.message} (machine ${JSON.stringify(this.creds.machineId)}: check machine_id/password, and that it is validated: cscli machines list)`,
          err.body,
        );
      }
      throw err;
    }
  }
}

/** `{token, expire}` → token and expiry (ms); `expire` missing or unreadable: the JWT's `exp`. */
export function parseLoginAnswer(v: unknown): { token: string; expiresAt: number | null } {
  const r = asRecord(v, 'login answer');
  if (typeof r.token !== 'string' || r.token === '') throw new Error('login answer has no token');
  let expiresAt = typeof r.expire === 'string' ? Date.parse(r.expire) : NaN;
  if (!Number.isFinite(expiresAt)) expiresAt = jwtExp(r.token) ?? NaN;
  return { token: r.token, expiresAt: Number.isFinite(expiresAt) ? expiresAt : null };
}

/** The `exp` claim (ms) of a JWT, unverified: only to know when to log in again. */
function jwtExp(token: string): number | null {
  const part = token.split('.')[1];
  if (part === undefined) return null;
  try {
    const claims = asRecord(JSON.parse(Buffer.from(part, 'base64url').toString('utf8')), 'JWT claims');
    return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}
