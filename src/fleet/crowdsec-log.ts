/** What the CrowdSec client logs through: pino's Logger fits (obj, msg); tests pass a recorder. */
export interface CrowdsecLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const silentLog: CrowdsecLog = { info: () => {}, warn: () => {} };
