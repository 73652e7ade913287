import { existsSync } from 'node:fs';
import { SERVICES, type Mode, type Service } from './types.js';

/**
 * Where each mode's log lives when no file is named: Debian/Ubuntu first, then RHEL/Fedora/Arch
 * spellings. Those that exist are read (mail.log once, even when several modes use it). On a
 * journald-only system (Debian 12 without rsyslog) pipe the journal in instead:
 * `journalctl -o short-iso -u ssh -u postfix@- -u dovecot | smtpstrike accounts -`.
 */
export const DEFAULT_LOGS: Record<Service, readonly string[]> = {
  exim: ['/var/log/exim4/mainlog', '/var/log/exim/main.log', '/var/log/exim/mainlog'],
  postfix: ['/var/log/mail.log', '/var/log/maillog'],
  dovecot: ['/var/log/mail.log', '/var/log/dovecot.log', '/var/log/maillog'],
  ssh: ['/var/log/auth.log', '/var/log/secure'],
  apache: ['/var/log/apache2/access.log', '/var/log/httpd/access_log', '/var/log/nginx/access.log'],
  openwebmail: ['/var/log/openwebmail.log'],
};

export function candidateLogs(mode: Mode): string[] {
  const services = mode === 'all' ? SERVICES : [mode];
  return [...new Set(services.flatMap((s) => DEFAULT_LOGS[s]))];
}

/** The default logs of a mode that exist on this machine. */
export function defaultLogs(mode: Mode, exists: (f: string) => boolean = existsSync): string[] {
  return candidateLogs(mode).filter((f) => exists(f));
}
