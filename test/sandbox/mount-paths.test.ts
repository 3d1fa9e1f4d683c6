import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toHostPaths } from '../../src/sandbox/mount-paths.ts';

const mounts = [
  { mountPath: '/etc/certs', hostPath: '/h/certs' },
  { mountPath: '/etc/certs/extra/', hostPath: '/h/extra' },
  { mountPath: '/data', hostPath: '/h/data' },
];

describe('toHostPaths', () => {
  const cases: [string, string][] = [
    ['/etc/certs', '/h/certs'],
    ['/etc/certs/tls.crt', '/h/certs/tls.crt'],
    ['cat /etc/certs/tls.crt > /data/out', 'cat /h/certs/tls.crt > /h/data/out'],
    ['"/etc/certs/a" \'/data\'', '"/h/certs/a" \'/h/data\''],
    ['A=/etc/certs:/data/x', 'A=/h/certs:/h/data/x'],
    ['/etc/certs/extra/f', '/h/extra/f'],
    ['$(cat /data/f)', '$(cat /h/data/f)'],
    ['/etc/certsx /etc/certs.bak', '/etc/certsx /etc/certs.bak'],
    ['/opt/etc/certs ./data ~/data', '/opt/etc/certs ./data ~/data'],
    ['/database', '/database'],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => assert.equal(toHostPaths(input, mounts), expected));
  }

  test('no mounts, no change', () => assert.equal(toHostPaths('/etc/certs', []), '/etc/certs'));
});
