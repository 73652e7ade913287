/**
 * The pipeline's options from a command's flags, for the commands' implementations (`*-run.ts`);
 * apart from options.ts so that defining the commands (`--help`) does not load the pipeline.
 */
import { loadRepliesFile } from '../options/cli-values.js';
import { defaultPipelineOptions, type PipelineOptions } from '../pipeline.js';
import { defaultEscalationOptions } from '../strikes/escalation.js';
import { ReplyResolver, replyTextsFromArgs, type ReplyTexts } from '../tls/reply-profiles.js';
import type { PipelineFlags } from './options.js';

/**
 * The pipeline options of the flags; `logReplies`: reply texts learned from a mail log (report).
 * Throws an Error when the replies file cannot be read (a config's `tls_replies_file:` is read here).
 */
export function pipelineOptionsFrom(f: PipelineFlags, logReplies?: ReplyTexts): PipelineOptions {
  const o = defaultPipelineOptions();
  o.ports = f.ports;
  o.patterns = f.match;
  o.strikes.hitcount = f.hitcount;
  o.strikes.seconds = f.seconds;
  o.strikes.connHitcount = f.connHitcount;
  o.strikes.connSeconds = f.connSeconds;
  for (const w of f.whitelist) o.strikes.whitelist.add(w);
  o.strikes.ipv6Prefix = f.ipv6Prefix;
  o.strikes.tempfailStrikes = f.tempfailStrikes;
  o.strikes.inferredStrikes = f.inferredStrikes;
  o.strikes.maxEntries = f.maxStrikeEntries;
  const esc = o.strikes.escalation ?? defaultEscalationOptions();
  o.strikes.escalation =
    f.escalate === false
      ? null
      : { factor: f.escalateFactor ?? esc.factor, capSeconds: f.escalateCap ?? esc.capSeconds, lookbackSeconds: f.escalateLookback ?? esc.lookbackSeconds };
  o.flows.maxFlows = f.maxFlows;
  o.tlsReplies = new ReplyResolver({
    option: replyTextsFromArgs(f.tlsReply),
    file: f.tlsRepliesFile === undefined ? undefined : loadRepliesFile(f.tlsRepliesFile),
    log: logReplies,
  });
  return o;
}
