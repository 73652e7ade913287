/**
 * `--services` (config `services:`): which mail services' log lines count as strikes, and so
 * which ports a block closes. One set of blocked addresses; the block rule's port set is the
 * union of the services' ports.
 *
 *   smtp  the SMTP ports of --ports (default 25, 587; 465 when listed there): Postfix's and Exim's
 *         SASL lines (written at once, so the sensor merge pairs them with the wire's sighting)
 *   imap  143, 993: Dovecot `imap-login` lines
 *   pop3  110, 995: Dovecot `pop3-login` lines
 *
 * Dovecot's auth process (`auth: passwd-file(u,IP): Password mismatch`, `auth-worker(…): pam(…)`,
 * `pam_unix(dovecot:auth)`) logs every check, Postfix's SASL included, without saying which
 * service asked: such a line never counts (service `unknown`). An IMAP/POP3 attempt is counted
 * from its login process's line instead, and an SMTP attempt from Postfix's. The login process
 * writes its line when the client disconnects, `(auth failed, N attempts in M secs)`: N failures
 * at once (`count`). managesieve, lmtp, ssh, apache and openwebmail lines never count (`other`),
 * nor does Dovecot's `submission-login` (Dovecot's own SMTP submission service): its line comes at
 * disconnect, long after the merge's 2 s window, while the wire sees the same attempts on 587 (read
 * or inferred), so it would count each attempt twice.
 *
 * The watch wiring (src/watch/log-sensor.ts, the log sensor of issue 11): for a line the LineParser calls a
 * success, failure or tempfail, `countsFor(services, { service: parser.service, proto: hit.proto })`;
 * when true, `hit.count` attempts. smtp events go through the SensorMerge (the wire may have seen
 * them); imap/pop3 events cannot have a wire sighting (capture is on --ports only), so they must not
 * be paired with one: give them to the strike engine directly (or to the merge with a serverPort of
 * their service, which no SMTP wire sighting has).
 */
import type { Service } from '../accounts/types.js';

export const MAIL_SERVICES = ['smtp', 'imap', 'pop3'] as const;
export type MailService = (typeof MAIL_SERVICES)[number];

export const DEFAULT_SERVICES: readonly MailService[] = ['smtp'];

/** The ports imap and pop3 add to the block rule (smtp's are --ports). */
export const SERVICE_PORTS: Readonly<Record<Exclude<MailService, 'smtp'>, readonly number[]>> = {
  imap: [143, 993],
  pop3: [110, 995],
};

/** `smtp,imap` → ['smtp', 'imap'] (deduplicated, in MAIL_SERVICES order); throws an Error naming a bad item. */
export function parseServices(items: string | readonly string[]): MailService[] {
  const list = (typeof items === 'string' ? items.split(',') : items).map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (list.length === 0) throw new Error(`no service given (${MAIL_SERVICES.join(', ')})`);
  for (const s of list) {
    if (!(MAIL_SERVICES as readonly string[]).includes(s)) throw new Error(`unknown service "${s}" (known: ${MAIL_SERVICES.join(', ')})`);
  }
  return MAIL_SERVICES.filter((s) => list.includes(s));
}

/**
 * The ports the block rule covers: `smtpPorts` (--ports) when smtp is listed, plus 143/993 for
 * imap and 110/995 for pop3; sorted, unique. Without smtp the SMTP ports still are the capture's,
 * but a block does not close them.
 */
export function blockPorts(smtpPorts: readonly number[], services: readonly MailService[] = DEFAULT_SERVICES): number[] {
  const out = new Set<number>();
  for (const s of services) for (const p of s === 'smtp' ? smtpPorts : SERVICE_PORTS[s]) out.add(p);
  return [...out].sort((a, b) => a - b);
}

/** What serviceOf needs of an event: an AuthLogEvent, or a LineParser's `service` with its `hit`. */
export interface ServiceFacts {
  /** The accounts parser that read the line (`postfix`, `exim`, `dovecot`, ...). */
  service: Service;
  /** Dovecot login-process lines: the protocol (Hit.proto / AuthLogEvent.proto). */
  proto?: string | undefined;
}

/**
 * The mail service a log event belongs to: `smtp` (Postfix, Exim), `imap` / `pop3` (Dovecot's
 * login processes), `unknown` (Dovecot's auth process: any service, Postfix's SASL included),
 * `other` (Dovecot submission-login, managesieve, lmtp; ssh, web logins).
 */
export function serviceOf(e: ServiceFacts): MailService | 'unknown' | 'other' {
  switch (e.service) {
    case 'postfix':
    case 'exim':
      return 'smtp';
    case 'dovecot':
      switch (e.proto) {
        case undefined:
          return 'unknown';
        case 'imap':
          return 'imap';
        case 'pop3':
          return 'pop3';
        default:
          return 'other';
      }
    default:
      return 'other';
  }
}

/**
 * Whether a log event counts in the strike engine under `services`: its service (serviceOf) is
 * listed. `unknown` and `other` never count. A failure counts as `count ?? 1` strikes (Dovecot's
 * `auth failed, 3 attempts` line: 3).
 */
export function countsFor(services: readonly MailService[], e: ServiceFacts): boolean {
  const s = serviceOf(e);
  return s !== 'unknown' && s !== 'other' && services.includes(s);
}

/**
 * The attempts one parsed log line puts into the strike engine under `services`: 0 when it does
 * not count (countsFor), else its `count` (a Hit's, or an AuthLogEvent's where absent means 1).
 */
export function attemptsFor(services: readonly MailService[], e: ServiceFacts & { count?: number | undefined }): number {
  return countsFor(services, e) ? (e.count ?? 1) : 0;
}
