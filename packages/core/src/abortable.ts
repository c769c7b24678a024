/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it aborts, so a model,
 * executor or sandbox that ignores the signal cannot keep a run waiting. The abandoned promise is
 * observed (its rejection is never unhandled) and carries on.
 *
 * @example
 * const harness = await abortable(startHarness(), options.signal)
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
