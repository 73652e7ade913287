/**
 * From a reply's plaintext length to the length of the TLS record that carries it. Measured
 * (issue 10): TLS 1.3 AEAD adds 17 (16-byte tag + the inner content type; OpenSSL and Postfix add
 * no padding), TLS 1.2 AES-GCM adds 24 (8-byte explicit nonce + tag), TLS 1.2 CBC with
 * encrypt-then-MAC carries a 16-byte IV, the plaintext padded to the block with at least one byte,
 * then the MAC (20 for HMAC-SHA1).
 */
export type RecordOverhead =
  | { readonly kind: 'aead'; readonly add: number }
  | { readonly kind: 'cbc'; readonly iv: number; readonly block: number; readonly mac: number; readonly etm: boolean };

export const TLS13_AEAD: RecordOverhead = { kind: 'aead', add: 17 };
export const TLS12_GCM: RecordOverhead = { kind: 'aead', add: 24 };
/** TLS 1.2 CBC, HMAC-SHA1, encrypt-then-MAC (RFC 7366): the MAC sits after the padded ciphertext. */
export const TLS12_CBC_SHA1_ETM: RecordOverhead = { kind: 'cbc', iv: 16, block: 16, mac: 20, etm: true };
/**
 * TLS 1.2 CBC, HMAC-SHA1, MAC-then-encrypt (no RFC 7366 extension offered): the MAC is encrypted
 * with the plaintext, 16 + pad16(n + 21). Seen in pcaps/tls/tls12-cbc.pcap.
 */
export const TLS12_CBC_SHA1: RecordOverhead = { kind: 'cbc', iv: 16, block: 16, mac: 20, etm: false };

/** Record length for `plain` bytes of plaintext. */
export function recordLength(o: RecordOverhead, plain: number): number {
  if (o.kind === 'aead') return plain + o.add;
  // At least one padding byte (the padding length itself), rounded up to the block; without
  // encrypt-then-MAC the MAC is padded and encrypted with the plaintext.
  if (!o.etm) return o.iv + Math.ceil((plain + o.mac + 1) / o.block) * o.block;
  return o.iv + Math.ceil((plain + 1) / o.block) * o.block + o.mac;
}

/**
 * Plaintext lengths of the replies of one server, with CRLF. Null when unknown: a reply size we
 * do not know is never guessed.
 */
export interface ReplySizes {
  readonly failure: number | null; // 535
  readonly success: number | null; // 235
  readonly tempfail: number | null; // 454
  /** 334 challenges (LOGIN's `VXNlcm5hbWU6` and `UGFzc3dvcmQ6` are both 18). */
  readonly challenge: number | null;
  readonly quit: number | null; // 221
}

/** Postfix + Dovecot SASL, measured (issue 10). */
export const POSTFIX_DOVECOT: ReplySizes = {
  failure: '535 5.7.8 Error: authentication failed: (reason unavailable)\r\n'.length, // 62
  success: '235 2.7.0 Authentication successful\r\n'.length, // 37
  tempfail: '454 4.7.0 Temporary authentication failure: Connection lost to authentication server\r\n'.length, // 86
  challenge: '334 VXNlcm5hbWU6\r\n'.length, // 18
  quit: '221 2.0.0 Bye\r\n'.length, // 15
};

/**
 * The sizes of `s` that can still be told apart under `o`. Where a reply's record would have the
 * length of another reply's record and at least one of the two is an outcome (535, 235, 454), both
 * become unknown (null) under this overhead: the model never guesses between them. Measured on Exim
 * (35-byte 535, 30-byte 235, 18-byte 334, 42-byte 221): with CBC and encrypt-then-MAC 235 = 334 =
 * 68 and 535 = 221 = 84, without it 535 = 235 = 221 = 80 (native-notes/tls-inference.md). A 334
 * and a 221 of one size (Postfix without ETM: 64) are kept: neither is an outcome, and a 221 read
 * as a 334 ends nothing.
 */
export function distinctSizes(s: ReplySizes, o: RecordOverhead): ReplySizes {
  const all = [s.failure, s.success, s.tempfail, s.challenge, s.quit];
  const rec = all.map((n) => (n === null ? -1 : recordLength(o, n)));
  const keep = all.map((n, i) => {
    if (n === null) return null;
    for (let j = 0; j < all.length; j++) {
      if (j !== i && rec[j] === rec[i] && (i < 3 || j < 3)) return null; // 0-2 are the outcomes
    }
    return n;
  });
  if (keep.every((n, i) => n === all[i])) return s;
  return { failure: keep[0]!, success: keep[1]!, tempfail: keep[2]!, challenge: keep[3]!, quit: keep[4]! };
}
