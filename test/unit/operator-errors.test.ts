/** client-node's HttpError → ApiError{code, reason, verb, kind, name}. */
import { strict as assert } from 'assert';
import { ApiError, isAlreadyExists, isConflict, isNotFound, isTransient, toApiError } from '../../src/kube/errors';

/** What client-node 0.20 throws: an Error whose message is always "HTTP request failed". */
function httpError(statusCode: number, body: unknown, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error('HTTP request failed'), { statusCode, body, response: { statusCode, headers } });
}

const ctx = { verb: 'update', kind: 'NetworkPolicy', namespace: 'shop', name: 'shop.web.ingress' } as const;

describe('operator ApiError mapping', () => {
  it('keeps the code, the Status reason and what was being done to which object', () => {
    const e = toApiError(httpError(409, { kind: 'Status', reason: 'Conflict', message: 'the object has been modified' }), ctx);
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 409);
    assert.equal(e.reason, 'Conflict');
    assert.equal(e.verb, 'update');
    assert.equal(e.kind, 'NetworkPolicy');
    assert.equal(e.objectName, 'shop.web.ingress');
    assert.match(e.message, /update NetworkPolicy shop\/shop.web.ingress: 409 Conflict: the object has been modified/);
    assert.ok(isConflict(e) && !isAlreadyExists(e) && isTransient(e));
  });

  it('tells AlreadyExists from other conflicts', () => {
    assert.ok(isAlreadyExists(toApiError(httpError(409, { reason: 'AlreadyExists' }), ctx)));
  });

  it('names a reason when the body is not a Status', () => {
    const e = toApiError(httpError(404, 'not json'), ctx);
    assert.equal(e.reason, 'NotFound');
    assert.ok(isNotFound(e) && !isTransient(e));
  });

  it('reads Retry-After from the Status details or the header', () => {
    assert.equal(toApiError(httpError(429, { reason: 'TooManyRequests', details: { retryAfterSeconds: 7 } }), ctx).retryAfterSeconds, 7);
    assert.equal(toApiError(httpError(429, {}, { 'retry-after': '3' }), ctx).retryAfterSeconds, 3);
  });

  it('maps errors without an HTTP answer to code 0, transient', () => {
    const e = toApiError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }), ctx);
    assert.equal(e.code, 0);
    assert.equal(e.reason, 'NetworkError');
    assert.ok(isTransient(e));
  });

  it('treats 5xx and 429 as transient and 403 as not', () => {
    assert.ok(isTransient(toApiError(httpError(503, {}), ctx)));
    assert.ok(isTransient(toApiError(httpError(429, {}), ctx)));
    assert.ok(!isTransient(toApiError(httpError(403, { reason: 'Forbidden' }), ctx)));
  });

  it('leaves an ApiError as it is', () => {
    const e = new ApiError(500, 'InternalError', ctx, { detail: 'x' });
    assert.equal(toApiError(e, { verb: 'get', kind: 'Other' }), e);
  });
});
