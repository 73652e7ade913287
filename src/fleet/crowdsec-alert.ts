import { isIP } from 'node:net';
import { parseDecisionAddress } from './crowdsec-address.js';
import { formatGoSeconds } from './crowdsec-duration.js';

/**
 * One smtpstrike block as a CrowdSec alert carrying its own ban decision, in the JSON that
 * POST /v1/alerts validates (pkg/models/alert.go, decision.go, source.go; 1.4.6 to today).
 * Required alert fields: scenario, scenario_hash, scenario_version, message, events_count, events,
 * capacity, leakspeed, simulated, source{scope,value}, start_at, stop_at; decision fields:
 * origin, type, scope, value, duration, scenario. An alert that brings decisions skips the LAPI's
 * profiles (they only add decisions to alerts without any), so our duration is the one kept.
 * The LAPI stores until = stop_at + duration, so stop_at is the block's start and the duration its
 * length: an alert pushed late from the queue still ends when our block ends.
 */

export const SCENARIO_AUTH = 'smtpstrike/smtp-auth-bf';
export const SCENARIO_CONN = 'smtpstrike/smtp-conn-flood';

/**
 * Origin `crowdsec`, as the CrowdSec agent's own alerts: we are a machine (watcher) like it, and
 * `cscli decisions list` without `--all` shows only the origins `crowdsec` and `cscli` (1.4.6:
 * pkg/database/alerts.go, include_capi=false), so any other origin would hide our blocks there.
 */
export const ORIGIN = 'crowdsec';

export interface CrowdsecBlock {
  /** What is blocked: an IPv4 address, an IPv6 address, or an IPv6 prefix `2001:db8::/64`. */
  key: string;
  /** The address seen on the wire (the alert's source ip). */
  client: string;
  rule: 'auth' | 'conn';
  /** Block start and end, seconds since the epoch (BlockEvent.from/until). */
  from: number;
  until: number;
  /** The threshold and window that fired (--hitcount/--seconds or the conn pair), for the alert text. */
  hits?: number;
  windowS?: number;
}

export interface AlertOptions {
  scenarioVersion: string;
  /** Pushed as simulated (a dry run): stored and listed, never handed to bouncers. */
  simulated?: boolean;
}

export type LapiScope = 'Ip' | 'Range';

/** Scope of a block key: `Ip` for one address (IPv6 /128 included), `Range` for a prefix. */
export function keyScope(key: string): LapiScope | null {
  const a = parseDecisionAddress(key);
  if (a === null) return null;
  return a.prefix === (a.family === 4 ? 32 : 128) ? 'Ip' : 'Range';
}

/** A queued block that can be sent: its key has a scope and times are sane. */
export function isValidBlock(b: CrowdsecBlock): boolean {
  return (
    keyScope(b.key) !== null &&
    isIP(b.client) !== 0 &&
    (b.rule === 'auth' || b.rule === 'conn') &&
    Number.isFinite(b.from) &&
    Number.isFinite(b.until) &&
    b.until > b.from
  );
}

export function scenarioOf(rule: 'auth' | 'conn'): string {
  return rule === 'auth' ? SCENARIO_AUTH : SCENARIO_CONN;
}

const iso = (s: number): string => new Date(Math.floor(s) * 1000).toISOString().replace('.000Z', 'Z');

/** The alert JSON for one block (the caller checked isValidBlock). */
export function blockToAlert(b: CrowdsecBlock, opts: AlertOptions): Record<string, unknown> {
  const scope = keyScope(b.key) ?? 'Ip';
  const value = parseDecisionAddress(b.key)?.value ?? b.key;
  const scenario = scenarioOf(b.rule);
  const what = b.rule === 'auth' ? 'SMTP AUTH failures' : 'new SMTP connections';
  const count = b.hits ?? 1;
  const message = `smtpstrike: ${value} blocked after ${count} ${what}${b.windowS ? ` within ${b.windowS} s` : ''} (client ${b.client})`;
  const duration = formatGoSeconds(b.until - b.from);
  return {
    scenario,
    scenario_hash: '',
    scenario_version: opts.scenarioVersion,
    message,
    events_count: count,
    events: [],
    capacity: count,
    leakspeed: b.windowS ? `${b.windowS}s` : '0s',
    simulated: opts.simulated ?? false,
    remediation: true,
    start_at: iso(b.from),
    stop_at: iso(b.from),
    source: { scope, value, ip: b.client, ...(scope === 'Range' ? { range: value } : {}) },
    meta: [
      { key: 'service', value: 'smtp' },
      { key: 'smtpstrike_rule', value: b.rule },
    ],
    decisions: [{ origin: ORIGIN, type: 'ban', scope, value, duration, scenario }],
  };
}
