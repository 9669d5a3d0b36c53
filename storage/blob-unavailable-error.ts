/** A referenced blob is missing from the store, or its bytes are not the ones the reference names. */
export class BlobUnavailableError extends Error {
  constructor(
    readonly key: string,
    readonly reason: 'missing' | 'corrupt',
  ) {
    super(
      reason === 'missing'
        ? `blob "${key}" is not in the blob store (deleted, or the API and the workers use different stores)`
        : `blob "${key}" does not match its reference (size or sha256 differ)`,
    );
    this.name = 'BlobUnavailableError';
  }
}
