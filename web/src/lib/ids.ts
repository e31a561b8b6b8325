// Random identifiers for client-side use (message idempotency keys, ping nonces).

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c && typeof c.getRandomValues === "function") {
    c.getRandomValues(out);
  } else {
    for (let i = 0; i < n; i++) out[i] = Math.floor(Math.random() * 256);
  }
  return out;
}

/** A random URL-safe string of `length` characters (6 random bits each). */
export function randomId(length = 22): string {
  const bytes = randomBytes(length);
  let s = "";
  for (let i = 0; i < length; i++) s += ALPHABET[bytes[i] & 63];
  return s;
}

/**
 * A fresh idempotency key for one outgoing message: 24 characters, far below the
 * protocol's 64-byte limit, with 132 random bits.
 */
export function newClientId(): string {
  return "m" + randomId(23);
}
