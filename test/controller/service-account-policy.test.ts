import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllowedServiceAccounts, serviceAccountProblem } from '../../src/controller/service-account-policy.ts';
import { hook } from './objects.ts';

describe('--allowed-service-accounts', () => {
  test('entries are names or NAMESPACE/NAME; anything else is refused with what to write', () => {
    assert.deepEqual(parseAllowedServiceAccounts(' hook-runner, web/deployer ,'), ['hook-runner', 'web/deployer']);
    assert.deepEqual(parseAllowedServiceAccounts(''), []);
    for (const bad of ['Hook', 'a_b', 'web/a/b', '/x', 'web/', 'x/Admin']) {
      assert.throws(() => parseAllowedServiceAccounts(bad), new RegExp(`"${bad.replace(/[/]/g, '\\/')}" is neither a ServiceAccount name nor NAMESPACE/NAME`));
    }
  });

  const runsAs = (serviceAccountName?: string) => hook({ job: { command: 'true', ...(serviceAccountName ? { serviceAccountName } : {}) } });

  test('a name allows it in every namespace, NAMESPACE/NAME in that one only', () => {
    const allowed = ['hook-runner', 'web/deployer'];
    assert.equal(serviceAccountProblem(runsAs('hook-runner'), allowed), undefined);
    assert.equal(serviceAccountProblem({ ...runsAs('deployer'), metadata: { name: 'h', namespace: 'web' } }, allowed), undefined);
    assert.match(serviceAccountProblem({ ...runsAs('deployer'), metadata: { name: 'h', namespace: 'api' } }, allowed)!, /^spec\.job\.serviceAccountName: "deployer" is not among the ServiceAccounts this operator lets hooks run as \(--allowed-service-accounts hook-runner,web\/deployer\)/);
  });

  test('a hook without a ServiceAccount (no API token) always may run; no policy allows every one', () => {
    assert.equal(serviceAccountProblem(runsAs(), []), undefined);
    assert.equal(serviceAccountProblem(runsAs('admin'), undefined), undefined);
    assert.match(serviceAccountProblem(runsAs('admin'), [])!, /\(--allowed-service-accounts \(none\)\)/);
  });
});
