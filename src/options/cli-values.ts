/**
 * The command line's reading of one value, by the kind of its option (options/registry.ts): the
 * same kind, range and choices the config file checks, so what one refuses the other refuses.
 */
import { InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { parseZone } from '../accounts/clock.js';
import { AddressSet } from '../strikes/address-key.js';
import { parseCalibrationFile, parseReplyArg, type ReplyTexts } from '../tls/reply-profiles.js';
import { parseServices, type MailService } from '../watch/services.js';
import { parseBytes, rangeProblem, type OptionSpec } from './registry.js';

export function portList(v: string): number[] {
  const ports = v
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (ports.length === 0) throw new InvalidArgumentError('no ports given');
  return ports.map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new InvalidArgumentError(`not a TCP port: "${p}"`);
    return Number(p);
  });
}

/** `--services smtp,imap` (watch, blocks): checked and put in smtp, imap, pop3 order. */
export function servicesArg(v: string): MailService[] {
  try {
    return parseServices(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** Runs `check`; its Error becomes commander's InvalidArgumentError (the option is named in the message). */
function checked(check: (v: string) => unknown, v: string): void {
  try {
    check(v);
  } catch (e) {
    throw e instanceof InvalidArgumentError ? e : new InvalidArgumentError((e as Error).message);
  }
}

/** The reply texts of a `smtpstrike calibrate` file; throws an Error naming the file and the problem. */
export function loadRepliesFile(file: string): ReplyTexts {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`tls replies file ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  try {
    return parseCalibrationFile(text);
  } catch (e) {
    throw new Error(`tls replies file ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** A whole number as the command line writes it: digits, a sign where the range goes below 0. */
function wholeNumber(v: string, signed: boolean): number {
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(v)) throw new InvalidArgumentError(`expected a whole number, got "${v}"`);
  return Number(v);
}

/** The parser commander runs on each value of the option (undefined: a flag, nothing to read). */
export function cliParser(spec: OptionSpec): ((v: string, prev: unknown) => unknown) | undefined {
  const ranged = (n: number): number => {
    const bad = rangeProblem(spec, n);
    if (bad) throw new InvalidArgumentError(bad);
    return n;
  };
  const listOf =
    (check?: (v: string) => unknown) =>
    (v: string, prev: unknown): string[] => {
      if (check) checked(check, v);
      if (spec.check) checked(spec.check, v);
      return [...((prev as string[] | undefined) ?? []), v];
    };
  switch (spec.kind) {
    case 'bool':
      return undefined;
    case 'int':
      return (v: string) => ranged(spec.syntax ? spec.syntax(v) : wholeNumber(v, (spec.min ?? 0) < 0));
    case 'decimal':
      return (v: string) => {
        if (!/^\d+(\.\d+)?$/.test(v)) throw new InvalidArgumentError(`expected seconds, got "${v}"`);
        return ranged(Number(v));
      };
    case 'bytes':
      return (v: string) => {
        const n = parseBytes(v);
        if (n === null) throw new InvalidArgumentError(`expected a size such as 134217728 or 128MiB, got "${v}"`);
        return ranged(n);
      };
    case 'string':
      if (spec.commanderChoices) return undefined;
      return (v: string) => {
        // The config file refuses an empty text; so does the command line, for the same key.
        if (v === '' && spec.config !== undefined) throw new InvalidArgumentError('expected text, got ""');
        if (spec.choices && !spec.choices.includes(v)) throw new InvalidArgumentError(`must be one of ${spec.choices.join(', ')}`);
        if (spec.check) checked(spec.check, v);
        if (spec.valid) checked(spec.valid, v);
        return v;
      };
    case 'zone':
      return (v: string) => {
        // parseZone reads "" as local; the config file refuses `tz: ""`, and so does the command line.
        if (v === '') throw new InvalidArgumentError('expected a zone such as local, UTC or +01:00, got ""');
        checked(parseZone, v);
        return v;
      };
    case 'ports':
      return portList;
    case 'services':
      return servicesArg;
    case 'strings':
      return listOf();
    case 'cidrs':
      return listOf((v) => new AddressSet().add(v));
    case 'replies':
      return listOf(parseReplyArg); // kept as given: the config's `tls_replies:` gives the same strings
    case 'argv':
      // One program path, run without a shell (arguments: the config file's list form).
      return (v: string) => {
        if (v === '') throw new InvalidArgumentError('expected a program, got ""');
        return [v];
      };
    case 'crowdsec':
      throw new Error(`${spec.option}: a config-file mapping has no command-line form`);
  }
}

/** The commander Option of a spec: flags, help, parser and default all from the registry. */
export function commanderOption(spec: OptionSpec): Option {
  if (!spec.flags) throw new Error(`${spec.option} has no command-line flags`);
  const o = new Option(spec.flags, spec.help ?? '');
  const parse = cliParser(spec);
  if (parse) o.argParser(parse);
  if (spec.commanderChoices && spec.choices) o.choices(spec.choices);
  if (spec.default !== undefined) o.default(spec.default);
  return o;
}
