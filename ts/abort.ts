/** Returns the error that an aborted `fit` rejects with: the signal's
 * reason when it is an `Error`, else a `DOMException` named
 * `AbortError`, as `fetch` does. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('training was aborted', 'AbortError');
}
