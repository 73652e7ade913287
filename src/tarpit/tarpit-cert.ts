/**
 * The tarpit's STARTTLS certificate: self-signed, made at start with `selfsigned` (a well-kept
 * library on node's WebCrypto, no openssl binary needed), never written to disk. Bots that insist on
 * STARTTLS rarely check the chain; a decoy has no name to prove.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { generate } from 'selfsigned';

export async function selfSignedContext(hostname: string): Promise<SecureContext> {
  const pems = await generate([{ name: 'commonName', value: hostname }], { keySize: 2048, algorithm: 'sha256' });
  return createSecureContext({ key: pems.private, cert: pems.cert });
}
