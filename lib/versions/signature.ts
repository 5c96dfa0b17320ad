// Signed versions: `pipe push` signs the manifest it writes with the pusher's ed25519 key; a
// reader verifies the signature over the manifest exactly as it parsed it, then asks whether the
// key is one the workspace trusts (config/trusted-keys/). What is verified is what is used: the
// signed bytes are recomputed from the parsed object (formatManifest without `signature`), so a
// manifest edited after signing (a swapped file, another stage's lock entry, new notes) fails.
import { sign, verify } from 'node:crypto';
import { formatManifest, type ManifestSignature, type VersionManifest } from './manifest.js';
import {
  fingerprintOf,
  publicKeyObject,
  type SigningKey,
  type TrustedKey,
} from './signing-keys.js';
import { TRUSTED_KEYS_DIR } from './signing-keys.js';

/** Separates these signatures from any other use of the same key. */
const DOMAIN = 'pipe version manifest v1\n';

export type Trust =
  | { readonly kind: 'trusted'; readonly key: TrustedKey }
  | { readonly kind: 'unsigned' }
  /** A valid signature by a key config/trusted-keys/ does not hold. */
  | { readonly kind: 'unknown-key'; readonly fingerprint: string }
  /** A signature that does not match the content: edited after signing, or forged. */
  | { readonly kind: 'tampered'; readonly fingerprint: string };

function signedBytes(manifest: VersionManifest): Buffer {
  const { signature: _signature, ...rest } = manifest;
  return Buffer.from(DOMAIN + formatManifest(rest as VersionManifest), 'utf8');
}

export function signManifest(manifest: VersionManifest, key: SigningKey): VersionManifest {
  const value = sign(null, signedBytes(manifest), key.privateKey).toString('base64url');
  const signature: ManifestSignature = { algorithm: 'ed25519', publicKey: key.publicKey, value };
  return { ...manifest, signature };
}

export function checkTrust(manifest: VersionManifest, trusted: readonly TrustedKey[]): Trust {
  const s = manifest.signature;
  if (s === undefined) return { kind: 'unsigned' };
  const fingerprint = fingerprintOf(s.publicKey);
  let valid: boolean;
  try {
    valid = verify(
      null,
      signedBytes(manifest),
      publicKeyObject(s.publicKey),
      Buffer.from(s.value, 'base64url'),
    );
  } catch {
    valid = false;
  }
  if (!valid) return { kind: 'tampered', fingerprint };
  const key = trusted.find((k) => k.publicKey === s.publicKey);
  return key === undefined ? { kind: 'unknown-key', fingerprint } : { kind: 'trusted', key };
}

/** Who signed, as the build and `pipe versions` say it: `key ci (Jane's CI job, ed25519:…)`. */
export function describeSigner(key: TrustedKey): string {
  return `key ${key.name} (${key.who === '' ? '' : `${key.who}, `}${key.fingerprint})`;
}

/** What follows "version <id> " in a message (unescaped: callers print through printable). */
export function describeTrust(trust: Trust): string {
  switch (trust.kind) {
    case 'trusted':
      return `is signed by ${describeSigner(trust.key)}`;
    case 'unsigned':
      return 'is unsigned';
    case 'unknown-key':
      return `is signed by ${trust.fingerprint}, a key ${TRUSTED_KEYS_DIR}/ does not hold`;
    case 'tampered':
      return `was edited after signing: its signature (${trust.fingerprint}) does not match its content`;
  }
}

/** The `signature:` line of `pipe versions`. */
export function trustLabel(trust: Trust): string {
  switch (trust.kind) {
    case 'trusted':
      return `trusted, ${describeSigner(trust.key)}`;
    case 'unsigned':
      return 'none (not reused by builds; pull needs --accept-untrusted)';
    case 'unknown-key':
      return `${trust.fingerprint}, not in ${TRUSTED_KEYS_DIR}/ (not reused by builds; pull needs --accept-untrusted)`;
    case 'tampered':
      return `DOES NOT MATCH the content (${trust.fingerprint}): edited after signing; refused`;
  }
}
