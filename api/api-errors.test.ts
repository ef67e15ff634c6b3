import { describe, expect, it } from 'vitest';
import { internalProblem, problemOfError, schemaProblem } from './api-errors.ts';
import { problem } from './problem.ts';

describe('problem mapping', () => {
  it('points each schema error at its member, escaping / and ~ (RFC 6901)', () => {
    expect(schemaProblem('body', { instancePath: '', keyword: 'required', params: { missingProperty: 'partitions' }, message: "must have required property 'partitions'" })).toEqual({ pointer: '/body/partitions', detail: 'is required' });
    expect(schemaProblem('querystring', { instancePath: '/from', keyword: 'format', params: {}, message: 'must match format "date-time"' })).toEqual({ pointer: '/query/from', detail: 'must match format "date-time"' });
    expect(schemaProblem('body', { instancePath: '/units', keyword: 'additionalProperties', params: { additionalProperty: 'a/b~c' } })).toEqual({ pointer: '/body/units/a~1b~0c', detail: 'is not a known member' });
    expect(schemaProblem('params', { instancePath: '/id', keyword: 'pattern', params: {} })).toEqual({ pointer: '/params/id', detail: 'fails pattern' });
  });

  it("keeps a route's problem, maps Fastify's client errors by status, and hides anything else behind a 500", () => {
    const conflict = problem({ status: 409, kind: 'conflict', title: 'Conflict' });
    expect(problemOfError(conflict)).toEqual({ init: conflict.init, expected: true });
    expect(problemOfError(problem({ status: 503, kind: 'unavailable', title: 'Unavailable' })).expected).toBe(false);
    const validation = Object.assign(new Error('body/name must be string'), { statusCode: 400, validationContext: 'body', validation: [{ instancePath: '/name', keyword: 'type', params: {}, message: 'must be string' }] });
    expect(problemOfError(validation)).toMatchObject({ expected: true, init: { status: 400, kind: 'invalid_request', problems: [{ pointer: '/body/name', detail: 'must be string' }] } });
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(problemOfError(tooLarge)).toEqual({ expected: true, init: { status: 413, kind: 'payload_too_large', title: 'The request body is too large', detail: 'Request body is too large' } });
    expect(problemOfError(new Error('ECONNREFUSED 10.0.0.7:9092'))).toEqual({ init: internalProblem, expected: false });
    expect(problemOfError(Object.assign(new Error('boom'), { statusCode: 502 }))).toEqual({ init: internalProblem, expected: false });
    expect(problemOfError('a string')).toEqual({ init: internalProblem, expected: false });
  });
});
