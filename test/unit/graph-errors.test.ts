import { classifyGraphError } from '../../shared/domain/directory';

describe('Graph error classification', () => {
  it.each([
    [
      400,
      'Request_BadRequest',
      'License assignment cannot be done for user with invalid usage location.',
      'usage_location_missing',
      false,
    ],
    [
      400,
      'Request_BadRequest',
      'Subscription with SKU 0dab259f-bf13-4952-b7f8-7db8f131b28d does not have any available licenses.',
      'insufficient_licenses',
      false,
    ],
    [
      400,
      'Request_BadRequest',
      'Not enough licenses are available for this assignment.',
      'insufficient_licenses',
      false,
    ],
    [
      400,
      'Request_BadRequest',
      'License assignment failed because service plans a, b are mutually exclusive.',
      'mutually_exclusive',
      false,
    ],
    [
      400,
      'Request_BadRequest',
      'License assignment failed because service plan a depends on the service plan(s) b',
      'dependency',
      false,
    ],
    [400, 'Request_BadRequest', 'License x does not correspond to a valid company License.', 'unknown_sku', false],
    [404, 'Request_ResourceNotFound', "Resource 'x' does not exist", 'user_not_found', false],
    [403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', 'forbidden', false],
    [401, 'InvalidAuthenticationToken', 'Access token is empty.', 'forbidden', false],
    [429, 'TooManyRequests', 'Too many requests', 'throttled', true],
    [503, 'ServiceUnavailable', 'x', 'graph_error', true],
    [504, 'GatewayTimeout', 'x', 'graph_error', true],
    [0, 'NetworkError', 'ECONNRESET', 'graph_error', true],
    [400, 'Request_BadRequest', 'Something new', 'graph_error', false],
  ])('%i %s "%s" → %s', (status, code, message, reason, transient) => {
    expect(classifyGraphError(status, code, message)).toMatchObject({ reason, transient, message, status });
  });

  it('keeps Retry-After', () => {
    expect(classifyGraphError(429, 'TooManyRequests', 'x', 12).retryAfterSeconds).toBe(12);
  });
});
