import * as crypto from 'crypto';

/** crypto.hash (Node ≥ 20.12) is a one-shot digest, several times cheaper than createHash for short texts. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function sha256Hex(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}
