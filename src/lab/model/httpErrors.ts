/** What to tell the user about a failed request to the server extension. Pure, no DOM. */

export interface ErrorDescription {
  message: string;
  hint?: string;
  code?: string;
}

/**
 * The server's own `{message, hint}` when it sent one; otherwise a sentence from the status:
 * a bare 404 means no handler is mounted under /edgespec/ (the server extension is missing).
 */
export function describeHttpError(status: number, data: unknown, text: string): ErrorDescription {
  const body = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (typeof body.message === 'string') {
    const description: ErrorDescription = { message: body.message };
    if (typeof body.hint === 'string') {
      description.hint = body.hint;
    }
    if (typeof body.code === 'string') {
      description.code = body.code;
    }
    return description;
  }
  if (status === 404) {
    return {
      message: 'The edgespec server extension did not answer (404).',
      hint: 'Install the edgespec Python package in the environment that runs JupyterLab, then restart the server.'
    };
  }
  if (status === 403) {
    return {
      message: 'The server refused the request (403).',
      hint: 'Reload the page to log in again.'
    };
  }
  const excerpt = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
  return { message: `The server answered ${status}${excerpt ? `: ${excerpt}` : '.'}` };
}
