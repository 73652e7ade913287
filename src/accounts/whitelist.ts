import { AddressSet } from '../strikes/address-key.js';
import type { GeoInfo } from '../geoip/geoip.js';

/**
 * The account report's whitelists (config file, `accounts.whitelist`): addresses and networks,
 * account names, countries (ISO 3166-1 alpha-2), AS numbers and ISP/organisation names. The
 * seed's list of mobile carriers becomes AS numbers (`asns`): a carrier's name changes, its AS
 * does not. Every address is judged by its own GeoIP record — never by another line's.
 */

export interface WhitelistConfig {
  ips: string[];
  users: string[];
  countries: string[];
  asns: number[];
  /** Case-insensitive substrings of the AS organisation (`isps: ["T-Mobile"]`). */
  isps: string[];
}

export function emptyWhitelist(): WhitelistConfig {
  return { ips: [], users: [], countries: [], asns: [], isps: [] };
}

export class Whitelist {
  private readonly nets = new AddressSet();
  private readonly users: Set<string>;
  private readonly countries: Set<string>;
  private readonly asns: Set<number>;
  private readonly isps: string[];

  constructor(readonly config: WhitelistConfig) {
    for (const c of config.ips) this.nets.add(c);
    this.users = new Set(config.users);
    this.countries = new Set(config.countries.map((c) => c.toUpperCase()));
    this.asns = new Set(config.asns);
    this.isps = config.isps.map((s) => s.toLowerCase());
  }

  /** Some entry needs GeoIP (country, AS, ISP). */
  get needsGeo(): boolean {
    return this.countries.size > 0 || this.asns.size > 0 || this.isps.length > 0;
  }

  hasUser(user: string | null): boolean {
    return user !== null && this.users.has(user);
  }

  /** Why the address is whitelisted (`network 192.0.2.0/24`, `country CZ`, `AS5610`, `ISP "O2"`), or null. */
  whyIp(ip: string, geo: GeoInfo | null): string | null {
    if (this.nets.has(ip)) return 'address';
    if (!geo) return null;
    if (geo.countryCode && this.countries.has(geo.countryCode)) return `country ${geo.countryCode}`;
    if (geo.asn !== undefined && this.asns.has(geo.asn)) return `AS${geo.asn}`;
    if (geo.org && this.isps.length > 0) {
      const org = geo.org.toLowerCase();
      const hit = this.isps.find((s) => org.includes(s));
      if (hit !== undefined) return `ISP "${geo.org}"`;
    }
    return null;
  }
}
