import { API_KEY_SCOPES } from '@stratavore/api-gateway-data-access';

import { requiredScopeOf, scopeAllows } from './api-scope';

describe('API key scopes', () => {
  it.each([
    ['viewer', 'viewer', true],
    ['viewer', 'operator', false],
    ['viewer', 'admin', false],
    ['operator', 'viewer', true],
    ['operator', 'operator', true],
    ['operator', 'admin', false],
    ['admin', 'viewer', true],
    ['admin', 'operator', true],
    ['admin', 'admin', true],
  ] as const)('a %s key %s a route needing %s', (granted, required, allowed) => {
    expect(scopeAllows(granted, required)).toBe(allowed);
  });

  it('covers every scope in the table above', () => {
    expect([...API_KEY_SCOPES].sort()).toEqual(['admin', 'operator', 'viewer']);
  });

  it('uses the declared scope of a route', () => {
    expect(requiredScopeOf('operator', 'GET')).toBe('operator');
    expect(requiredScopeOf('viewer', 'POST')).toBe('viewer');
  });

  it('without a declaration, reads need viewer and anything else fails closed to admin', () => {
    expect(requiredScopeOf(undefined, 'GET')).toBe('viewer');
    expect(requiredScopeOf(undefined, 'head')).toBe('viewer');
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE']) {
      expect(requiredScopeOf(undefined, method)).toBe('admin');
    }
  });
});
