/** An error a person can act on: what went wrong (message) and what to do (hint). */
export class EdgespecError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly details?: unknown
  ) {
    super(message);
    this.name = 'EdgespecError';
  }
}
