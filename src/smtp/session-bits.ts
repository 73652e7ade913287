/**
 * The packed per-session state of SmtpSession (smtp-session.ts): its yes/no flags and three small
 * numbers in one integer, behind accessors, so a session object stays small at hundreds of
 * thousands of flows.
 */
export const enum Mech {
  None,
  Plain,
  Login,
  Other,
}

export class SessionBits {
  /**
   * The yes/no state, one bit each, and three small numbers (the accessors below):
   * as thirteen fields they cost 96 bytes a session, 19 MB at 200,000 flows.
   */
  private bits = 0;

  protected get opaque(): boolean {
    return (this.bits & 1) !== 0;
  }
  protected set opaque(v: boolean) {
    this.bits = v ? this.bits | 1 : this.bits & ~1;
  }
  protected get serverSeen(): boolean {
    return (this.bits & 2) !== 0;
  }
  protected set serverSeen(v: boolean) {
    this.bits = v ? this.bits | 2 : this.bits & ~2;
  }
  protected get clientSeen(): boolean {
    return (this.bits & 4) !== 0;
  }
  protected set clientSeen(v: boolean) {
    this.bits = v ? this.bits | 4 : this.bits & ~4;
  }
  protected get replyMatched(): boolean {
    return (this.bits & 8) !== 0;
  }
  protected set replyMatched(v: boolean) {
    this.bits = v ? this.bits | 8 : this.bits & ~8;
  }
  protected get authPending(): boolean {
    return (this.bits & 16) !== 0;
  }
  protected set authPending(v: boolean) {
    this.bits = v ? this.bits | 16 : this.bits & ~16;
  }
  /** The last AUTH command carried an initial response. */
  protected get authInitial(): boolean {
    return (this.bits & 32) !== 0;
  }
  protected set authInitial(v: boolean) {
    this.bits = v ? this.bits | 32 : this.bits & ~32;
  }
  protected get needUser(): boolean {
    return (this.bits & 64) !== 0;
  }
  protected set needUser(v: boolean) {
    this.bits = v ? this.bits | 64 : this.bits & ~64;
  }
  protected get startTlsPending(): boolean {
    return (this.bits & 128) !== 0;
  }
  protected set startTlsPending(v: boolean) {
    this.bits = v ? this.bits | 128 : this.bits & ~128;
  }
  protected get dataPending(): boolean {
    return (this.bits & 256) !== 0;
  }
  protected set dataPending(v: boolean) {
    this.bits = v ? this.bits | 256 : this.bits & ~256;
  }
  protected get inBody(): boolean {
    return (this.bits & 512) !== 0;
  }
  protected set inBody(v: boolean) {
    this.bits = v ? this.bits | 512 : this.bits & ~512;
  }
  /** The server's first line was seen (the banner, if it was a 220, is kept). */
  protected get greeted(): boolean {
    return (this.bits & (1 << 24)) !== 0;
  }
  protected set greeted(v: boolean) {
    this.bits = v ? this.bits | (1 << 24) : this.bits & ~(1 << 24);
  }
  /** Code of the multi-line reply being read (its first line), -1 between replies: bits 10-19 hold code + 1. */
  protected get multiCode(): number {
    return ((this.bits >>> 10) & 1023) - 1;
  }
  protected set multiCode(v: number) {
    this.bits = (this.bits & ~(1023 << 10)) | ((v + 1) << 10);
  }
  /** SASL mechanism of the exchange in progress: bits 20-21. */
  protected get mech(): Mech {
    return (this.bits >>> 20) & 3;
  }
  protected set mech(v: Mech) {
    this.bits = (this.bits & ~(3 << 20)) | (v << 20);
  }
  /** Body end detector: 0 at line start, 1 after '.', 2 after '.\r', 3 inside a line (bits 22-23). */
  protected get bodyState(): number {
    return (this.bits >>> 22) & 3;
  }
  protected set bodyState(v: number) {
    this.bits = (this.bits & ~(3 << 22)) | (v << 22);
  }
}
