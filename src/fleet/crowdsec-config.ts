/**
 * The `crowdsec:` mapping of the config file, checked: `{url, machine_id, password, bouncer_key}`
 * plus optional tuning. machine_id + password make smtpstrike a machine (it pushes its blocks);
 * bouncer_key makes it a bouncer (it applies the LAPI's bans); either or both. Unknown keys are
 * errors, as everywhere in the config (a typo must not silently turn the link off).
 */

export interface CrowdsecConfig {
  url: string;
  machineId?: string;
  password?: string;
  bouncerKey?: string;
  /** Decision stream poll interval, seconds (default 10). */
  pollInterval: number;
  /** Blocks held while the LAPI is down (default 10000). */
  maxQueue: number;
  /** Only decisions of these origins are applied (LAPI filter; default: all). */
  origins?: string[];
  /** Only decisions whose scenario contains one of these (LAPI filter; default: all). */
  scenariosContaining?: string[];
}

const KEYS = new Set(['url', 'machine_id', 'password', 'bouncer_key', 'poll_interval', 'max_queue', 'origins', 'scenarios_containing']);

/** Throws `crowdsec.KEY: reason` on anything wrong. */
export function parseCrowdsecConfig(v: unknown): CrowdsecConfig {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('crowdsec: must be a mapping {url, machine_id, password, bouncer_key}');
  const r = v as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!KEYS.has(k)) throw new Error(`crowdsec.${k}: unknown key (known: ${[...KEYS].join(', ')})`);
  const str = (k: string): string | undefined => {
    const x = r[k];
    if (x === undefined || x === null) return undefined;
    if (typeof x !== 'string' || x === '') throw new Error(`crowdsec.${k}: must be a non-empty string`);
    return x;
  };
  const int = (k: string, dflt: number, min: number, max: number): number => {
    const x = r[k];
    if (x === undefined || x === null) return dflt;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) throw new Error(`crowdsec.${k}: must be a whole number from ${min} to ${max}`);
    return x;
  };
  const list = (k: string): string[] | undefined => {
    const x = r[k];
    if (x === undefined || x === null) return undefined;
    if (!Array.isArray(x) || !x.every((s) => typeof s === 'string' && s !== '' && !s.includes(',')))
      throw new Error(`crowdsec.${k}: must be a list of names (no commas)`);
    return x as string[];
  };
  const url = str('url');
  if (url === undefined) throw new Error('crowdsec.url: missing (the Local API, e.g. http://127.0.0.1:8080)');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`crowdsec.url: not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`crowdsec.url: must be http:// or https://: ${url}`);
  const machineId = str('machine_id');
  const password = str('password');
  const bouncerKey = str('bouncer_key');
  if ((machineId === undefined) !== (password === undefined)) throw new Error('crowdsec: machine_id and password go together');
  if (machineId === undefined && bouncerKey === undefined)
    throw new Error('crowdsec: give machine_id and password (push blocks), bouncer_key (apply bans), or both');
  const cfg: CrowdsecConfig = { url, pollInterval: int('poll_interval', 10, 1, 3600), maxQueue: int('max_queue', 10_000, 1, 1_000_000) };
  if (machineId !== undefined) cfg.machineId = machineId;
  if (password !== undefined) cfg.password = password;
  if (bouncerKey !== undefined) cfg.bouncerKey = bouncerKey;
  const origins = list('origins');
  if (origins) cfg.origins = origins;
  const sc = list('scenarios_containing');
  if (sc) cfg.scenariosContaining = sc;
  return cfg;
}
