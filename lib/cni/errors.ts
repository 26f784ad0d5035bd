// The CNI spec's error codes and the error a plugin prints as JSON on stdout (SPEC.md "Error").

export const ErrIncompatibleVersion = 1;
export const ErrUnsupportedField = 2;
export const ErrUnknownContainer = 3;
export const ErrInvalidEnvironment = 4;
export const ErrIOFailure = 5;
export const ErrDecodingFailure = 6;
export const ErrInvalidNetworkConfig = 7;
export const ErrTryAgainLater = 11;
export const ErrPluginNotAvailable = 50;
export const ErrLimitedConnectivity = 51;
/** Not in the spec's table: what the reference skel reports for an unclassified plugin failure. */
export const ErrInternal = 999;

export class CniError extends Error {
  constructor(readonly code: number, msg: string, readonly details?: string) {
    super(msg);
    this.name = 'CniError';
  }

  toJSON(cniVersion: string): object {
    const out: Record<string, unknown> = { cniVersion, code: this.code, msg: this.message };
    if (this.details) out.details = this.details;
    return out;
  }
}

/** Any thrown value as a CniError: ConfigError-like errors (with a `field`) are config errors, the rest internal. */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof Error) {
    const field = (e as { field?: unknown }).field;
    return new CniError(typeof field === 'string' ? ErrInvalidNetworkConfig : ErrInternal, e.message);
  }
  return new CniError(ErrInternal, String(e));
}
