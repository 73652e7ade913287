import type { PipelineOptions } from '../pipeline.js';
import { ReplyResolver } from '../tls/reply-profiles.js';
import type { ReportDoc } from './report-doc.js';
import type { ReportInputs, ReportOptions } from './report-options.js';
import { learnFailureText } from './reply-texts.js';

/**
 * With captures and logs, and no 535 text given (`--tls-reply`, `--tls-replies-file`): the one
 * 535 text the logs show becomes the captures' failure size (over the banner's built-in profile).
 */
export async function logReplies(
  inputs: ReportInputs,
  o: ReportOptions,
  warn: (m: string) => void,
): Promise<{ pipeline: PipelineOptions; doc: ReportDoc['tls_replies'] }> {
  const given = o.pipeline.tlsReplies.inputs;
  const fixed = given.option?.[535] !== undefined ? 'option' : given.file?.[535] !== undefined ? 'file' : null;
  const doc: ReportDoc['tls_replies'] = { failure_source: fixed ?? 'banner', log_failure_text: null, log_failure_texts: [] };
  if (fixed || inputs.captures.length === 0 || inputs.logs.length === 0) return { pipeline: o.pipeline, doc };
  const l = await learnFailureText(inputs.logs);
  doc.log_failure_texts = l.texts;
  if (l.text !== null) {
    doc.failure_source = 'log';
    doc.log_failure_text = l.text;
    return { pipeline: { ...o.pipeline, tlsReplies: new ReplyResolver({ ...given, log: { 535: l.text } }) }, doc };
  }
  if (l.texts.length > 1) {
    warn(
      `the logs show ${l.texts.length}${l.texts.length >= 8 ? '+' : ''} different 535 texts (${l.texts
        .slice(0, 3)
        .map((t) => JSON.stringify(t))
        .join(', ')}${l.texts.length > 3 ? ', …' : ''}): ` +
        'none is used for the sizes inside TLS (several servers, or reasons in the replies?); give --tls-reply 535=TEXT or --tls-replies-file',
    );
  }
  return { pipeline: o.pipeline, doc };
}
