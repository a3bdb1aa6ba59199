import { describeHttpError } from '../../../src/lab/model/httpErrors';

describe('describeHttpError', () => {
  it("passes on the server's message, hint and code", () => {
    expect(describeHttpError(403, { message: 'outside the root', hint: 'use a path inside', code: 'E_PATH' }, '')).toEqual({
      message: 'outside the root',
      hint: 'use a path inside',
      code: 'E_PATH'
    });
  });

  it('says the server extension is missing on a bare 404', () => {
    const description = describeHttpError(404, null, '<html><title>404: Not Found</title></html>');
    expect(description.message).toBe('The edgespec server extension did not answer (404).');
    expect(description.hint).toMatch(/Install the edgespec Python package/);
  });

  it('turns an HTML error page into one line', () => {
    expect(describeHttpError(502, null, '<html><body><h1>Bad   Gateway</h1></body></html>').message).toBe('The server answered 502: Bad Gateway');
    expect(describeHttpError(500, null, '').message).toBe('The server answered 500.');
  });
});
