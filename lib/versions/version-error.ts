// Why reading a version failed: the remote's own errors, or data that is not a valid version (a
// malformed name, a manifest that fails validation, files that do not match their lock entry).
import { describeRemoteError, type RemoteError } from '../remote/remote.js';

export type VersionError =
  | RemoteError
  /** `message` is one sentence naming the version or the text at fault. */
  | { readonly kind: 'invalid'; readonly message: string };

export function invalidVersion(message: string): VersionError {
  return { kind: 'invalid', message };
}

/** One line for a person, as describeRemoteError says it for the remote's own errors. */
export function describeVersionError(error: VersionError): string {
  return error.kind === 'invalid' ? error.message : describeRemoteError(error);
}
