import { hash, verify, type Options } from '@node-rs/argon2';

/** OWASP's argon2id floor: 19 MiB, 2 iterations, 1 lane. */
const ARGON2ID: Options = { algorithm: 2 /* Argon2id */, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password).catch(() => false);
}

// Verified against when the email is unknown, so that an unknown email costs the same time
// as a wrong password and the answer gives nothing away.
let decoy: Promise<string> | undefined;
export function verifyDecoy(password: string): Promise<boolean> {
  decoy ??= hashPassword('decoy-password-that-never-matches');
  return decoy.then((h) => verifyPassword(h, password)).then(() => false);
}
