/**
 * The report document's addresses (their places and timelines) and the counts per country and
 * autonomous system. Part of the JSON schema (report-doc.ts, which re-exports these types).
 */
import type { AttemptOutcome, Seen } from './types.js';
import type { AddressStat } from './report-doc-verdicts.js';

export interface GeoJson {
  /** A label instead of a place (`Private network`, …), or null. */
  label: string | null;
  /** ISO 3166-1 country code, or null. */
  country_code: string | null;
  /** Country name, or null. */
  country: string | null;
  /** City, or null. */
  city: string | null;
  /** AS number, or null. */
  asn: number | null;
  /** The AS's organisation (ISP), or null. */
  org: string | null;
  /** `Country, City - ISP` at the report's level. */
  place: string;
}

/** One attempt on an address's timeline. */
export interface TimelineEvent {
  /** When. */
  ts: number;
  /** `failure`, `success` or `tempfail`. */
  outcome: AttemptOutcome;
  /** The username, or null when unknown. */
  user: string | null;
  /** How it was seen. */
  seen: Seen;
  /** Logged inside a session the wire saw go opaque. */
  tls: boolean;
}

/** An address in `addresses`: its statistics, place and timeline. */
export interface AddressJson extends AddressStat {
  /** Its place (GeoIP), or null without GeoIP. */
  geo: GeoJson | null;
  /** Its attempts in time order, at most 500 (and 200,000 over all addresses, the most urgent first: MAX_LISTED_EVENTS). */
  events: TimelineEvent[];
  /** Attempts beyond those listed in `events`. */
  events_not_listed: number;
}

/** Counts for one country or autonomous system. */
export interface PlaceCount {
  /** Country code, `AS<n>`, `label:<label>` or `unknown`. */
  key: string;
  /** Its name as shown. */
  name: string;
  /** Addresses there. */
  addresses: number;
  /** Their failed attempts. */
  failures: number;
  /** Their logins. */
  successes: number;
  /** Their temporary failures. */
  tempfails: number;
  /** Of the addresses, those in a COMPROMISED row. */
  compromised: number;
  /** Of the addresses, those ATTACKED. */
  attacked: number;
}
