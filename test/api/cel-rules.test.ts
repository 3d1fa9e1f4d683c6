import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { schemaAt, violations } from './crd-schema.ts';

describe('DeployHook env rules', () => {
  const name = schemaAt('DeployHook', 'spec.job.env[].name');
  const envVar = schemaAt('DeployHook', 'spec.job.env[]');
  const valueFrom = schemaAt('DeployHook', 'spec.job.env[].valueFrom');

  test('CERTMATE_ names are reserved', () => {
    assert.deepEqual(violations(name, 'PAGERDUTY_URL'), []);
    assert.deepEqual(violations(name, 'MY_CERTMATE_THING'), []);
    assert.match(violations(name, 'CERTMATE_DOMAIN').join(), /reserved/);
  });

  test('value and valueFrom exclude each other', () => {
    assert.deepEqual(violations(envVar, { name: 'A', value: 'x' }), []);
    assert.deepEqual(violations(envVar, { name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }), []);
    assert.match(
      violations(envVar, { name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }).join(),
      /either value or valueFrom/,
    );
  });

  test('valueFrom names exactly one source', () => {
    assert.deepEqual(violations(valueFrom, { configMapKeyRef: { name: 'c', key: 'k' } }), []);
    assert.match(violations(valueFrom, {}).join(), /exactly one/);
    assert.match(
      violations(valueFrom, { configMapKeyRef: { name: 'c', key: 'k' }, secretKeyRef: { name: 's', key: 'k' } }).join(),
      /exactly one/,
    );
  });
});

describe('DeployHook secretSelector rules', () => {
  const requirement = schemaAt('DeployHook', 'spec.secretSelector.matchExpressions[]');

  test('In and NotIn need values; Exists and DoesNotExist take none', () => {
    assert.deepEqual(violations(requirement, { key: 'a', operator: 'In', values: ['x'] }), []);
    assert.deepEqual(violations(requirement, { key: 'a', operator: 'Exists' }), []);
    assert.deepEqual(violations(requirement, { key: 'a', operator: 'DoesNotExist', values: [] }), []);
    assert.equal(violations(requirement, { key: 'a', operator: 'NotIn' }).length, 1);
    assert.equal(violations(requirement, { key: 'a', operator: 'In', values: [] }).length, 1);
    assert.equal(violations(requirement, { key: 'a', operator: 'Exists', values: ['x'] }).length, 1);
  });
});

describe('DeployHookRun spec rules', () => {
  const spec = schemaAt('DeployHookRun', 'spec');
  const certificate = { fingerprint: 'ab'.repeat(32), dnsNames: ['a.example.com'] };
  const automatic = { hookRef: { name: 'h' }, secretRef: { name: 's' }, event: 'renewed', certificate, triggeredBy: 'certhook' };

  test('an unchanged spec passes; any change is rejected as immutable', () => {
    assert.deepEqual(violations(spec, automatic, structuredClone(automatic)), []);
    const changed = { ...automatic, certificate: { ...certificate, dnsNames: ['b.example.com'] } };
    assert.deepEqual(violations(spec, changed, automatic), ['spec is immutable']);
    assert.deepEqual(violations(spec, { ...automatic, triggeredBy: 'alice' }, automatic), ['spec is immutable']);
  });

  test('certificate is required unless the run is manual', () => {
    const { certificate: _omitted, ...withoutCertificate } = automatic;
    const manual = { ...withoutCertificate, event: 'manual', triggeredBy: 'alice' };
    assert.deepEqual(violations(spec, manual, manual), []);
    assert.deepEqual(violations(spec, withoutCertificate, withoutCertificate), ['certificate is required unless event is manual']);
  });
});

describe('DeployHook job pod settings rules', () => {
  const at = (path: string) => schemaAt('DeployHook', `spec.job.${path}`);

  test('securityContext: non-root users and groups only', () => {
    assert.deepEqual(violations(at('securityContext.runAsUser'), 1000), []);
    assert.match(violations(at('securityContext.runAsUser'), 0).join(), /runAsUser 0 \(root\) is refused: .*restricted profile/);
    assert.deepEqual(violations(at('securityContext.runAsGroup'), 1000), []);
    assert.match(violations(at('securityContext.runAsGroup'), 0).join(), /runAsGroup 0 \(root\) is refused/);
    assert.deepEqual(violations(at('securityContext.runAsNonRoot'), true), []);
    assert.match(violations(at('securityContext.runAsNonRoot'), false).join(), /runAsNonRoot: false is refused: the Pod Security restricted profile requires a non-root user/);
  });

  test('securityContext: no privileges, no escalation, no capability but NET_BIND_SERVICE, ALL dropped', () => {
    assert.deepEqual(violations(at('securityContext.privileged'), false), []);
    assert.match(violations(at('securityContext.privileged'), true).join(), /privileged: true is refused: the Pod Security restricted profile forbids privileged containers/);
    assert.deepEqual(violations(at('securityContext.allowPrivilegeEscalation'), false), []);
    assert.match(violations(at('securityContext.allowPrivilegeEscalation'), true).join(), /forbids privilege escalation/);
    assert.deepEqual(violations(at('securityContext.capabilities.add'), ['NET_BIND_SERVICE']), []);
    assert.deepEqual(violations(at('securityContext.capabilities.add'), []), []);
    assert.match(violations(at('securityContext.capabilities.add'), ['NET_BIND_SERVICE', 'NET_ADMIN']).join(), /only NET_BIND_SERVICE may be added/);
    assert.deepEqual(violations(at('securityContext.capabilities.drop'), ['ALL']), []);
    assert.match(violations(at('securityContext.capabilities.drop'), ['NET_RAW']).join(), /drop must include ALL/);
  });

  test('securityContext: seccomp and AppArmor profiles RuntimeDefault or Localhost (with its profile), never Unconfined', () => {
    for (const kind of ['seccompProfile', 'appArmorProfile']) {
      const node = at(`securityContext.${kind}`);
      assert.deepEqual(violations(node, { type: 'RuntimeDefault' }), []);
      assert.deepEqual(violations(node, { type: 'Localhost', localhostProfile: 'profiles/hook.json' }), []);
      assert.match(violations(node, { type: 'Unconfined' }).join(), /type Unconfined is refused: the Pod Security restricted profile allows only RuntimeDefault or Localhost/);
      assert.match(violations(node, { type: 'Localhost' }).join(), /localhostProfile is required with type Localhost/);
      assert.match(violations(node, { type: 'RuntimeDefault', localhostProfile: 'x' }).join(), /only allowed with it/);
    }
  });

  test("podLabels may not set certhook's or the Job controller's labels; podAnnotations not certhook's", () => {
    assert.deepEqual(violations(at('podLabels'), { team: 'edge', 'app.kubernetes.io/name': 'hook', 'sidecar.istio.io/inject': 'false' }), []);
    for (const key of ['certhook.io/run', 'certhook.io/anything', 'batch.kubernetes.io/job-name', 'batch.kubernetes.io/controller-uid', 'job-name', 'controller-uid']) {
      assert.match(violations(at('podLabels'), { team: 'edge', [key]: 'x' }).join(), /podLabels cannot set certhook\.io\/\*, batch\.kubernetes\.io\/\*, job-name or controller-uid/, key);
    }
    assert.deepEqual(violations(at('podAnnotations'), { 'sidecar.istio.io/inject': 'false' }), []);
    assert.match(violations(at('podAnnotations'), { 'certhook.io/fingerprint': 'x' }).join(), /certhook\.io\/\* annotations/);
  });

  test('tolerations: Exists has no value, an empty key needs Exists, tolerationSeconds only for NoExecute', () => {
    const toleration = at('tolerations[]');
    assert.deepEqual(violations(toleration, { key: 'dedicated', operator: 'Equal', value: 'hooks', effect: 'NoSchedule' }), []);
    assert.deepEqual(violations(toleration, { key: 'dedicated', value: 'hooks' }), []);
    assert.deepEqual(violations(toleration, { operator: 'Exists' }), []);
    assert.deepEqual(violations(toleration, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }), []);
    assert.match(violations(toleration, { key: 'a', operator: 'Exists', value: 'x' }).join(), /operator Exists has no value/);
    assert.match(violations(toleration, { value: 'x' }).join(), /without a key must have operator Exists/);
    assert.match(violations(toleration, { key: 'a', effect: 'NoSchedule', tolerationSeconds: 5 }).join(), /tolerationSeconds is only for effect NoExecute/);
  });

  test('node affinity requirements: values as the operator needs them', () => {
    const requirement = at('affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[].matchExpressions[]');
    assert.deepEqual(violations(requirement, { key: 'zone', operator: 'In', values: ['a'] }), []);
    assert.deepEqual(violations(requirement, { key: 'zone', operator: 'Exists' }), []);
    assert.deepEqual(violations(requirement, { key: 'cpus', operator: 'Gt', values: ['4'] }), []);
    const wrong: { operator: string; values?: string[] }[] = [{ operator: 'In' }, { operator: 'NotIn', values: [] }, { operator: 'Exists', values: ['a'] }, { operator: 'Gt', values: ['four'] }, { operator: 'Lt', values: ['1', '2'] }];
    for (const bad of wrong) {
      assert.equal(violations(requirement, { key: 'k', ...bad }).length, 1, JSON.stringify(bad));
    }
  });
});

describe('DeployHook names, keys and references Kubernetes would refuse later', () => {
  const at = (path: string) => schemaAt('DeployHook', path);

  test("serviceAccountName and the names of Secrets and ConfigMaps: a lowercase RFC 1123 subdomain of the hook's namespace", () => {
    const nodes = ['spec.job.serviceAccountName', 'spec.job.env[].valueFrom.secretKeyRef.name', 'spec.job.env[].valueFrom.configMapKeyRef.name', 'spec.job.imagePullSecrets[].name', 'spec.webhook.headers[].valueFrom.secretKeyRef.name', 'spec.webhook.signing.secretRef.name'];
    for (const path of nodes) {
      for (const ok of ['edge-restarter', 'a', 'db.credentials', '0day']) assert.deepEqual(violations(at(path), ok), [], `${path}: ${ok}`);
      for (const bad of ['Deployer', 'deploy_bot', 'kube-system/admin', '-deployer', 'deployer-', 'a..b', 'team secret']) {
        assert.match(violations(at(path), bad).join(), /must be a lowercase RFC 1123 subdomain: .*no namespace\/ prefix/, `${path}: ${bad}`);
      }
    }
  });

  test('keys of Secrets and ConfigMaps: letters, digits, -, _ and ., not . or ..', () => {
    for (const path of ['spec.job.env[].valueFrom.secretKeyRef.key', 'spec.webhook.signing.secretRef.key']) {
      for (const ok of ['password', 'tls.crt', '.hidden', 'A_B-c']) assert.deepEqual(violations(at(path), ok), [], `${path}: ${ok}`);
      for (const bad of ['db password', '.', '..', '../secret', 'a/b']) assert.match(violations(at(path), bad).join(), /a key of a Secret or ConfigMap/, `${path}: ${bad}`);
    }
  });

  test('image: a container image reference', () => {
    const image = at('spec.job.image');
    const digest = `sha256:${'0a'.repeat(32)}`;
    for (const ok of ['alpine', 'alpine:3.22', 'registry.k8s.io/kubectl:v1.34.0', 'localhost:5000/tools/reload', 'Registry.Example.com/team/tool', `ghcr.io/certhook/certhook:0.2.0@${digest}`, `alpine@${digest}`, 'my_org/tool__x']) {
      assert.deepEqual(violations(image, ok), [], ok);
    }
    for (const bad of ['alpine:', 'Alpine', 'registry.example.com/Team/tool', 'alpine 3.22', ' alpine', 'alpine:3.22 ', 'alpine@sha256:abc', 'alpine@md5:0123456789abcdef0123456789abcdef', 'alpine:-x', 'a//b']) {
      assert.match(violations(image, bad).join(), /image must be a container image reference/, bad);
    }
  });

  test('domains: labels of at most 63 characters', () => {
    const domain = at('spec.domains').items!;
    assert.deepEqual(violations(domain, `${'a'.repeat(63)}.example.com`), []);
    assert.deepEqual(violations(domain, `*.${'a'.repeat(63)}`), []);
    assert.match(violations(domain, `${'a'.repeat(64)}.example.com`).join(), /at most 63 characters/);
    assert.match(violations(domain, `api.${'a'.repeat(64)}`).join(), /at most 63 characters/);
    assert.equal(at('spec.domains')['x-kubernetes-list-type'], 'set', 'a domain listed twice is a Duplicate');
  });

  test('selectors: keys are qualified names, values label values', () => {
    const requirement = at('spec.secretSelector.matchExpressions[]');
    assert.match(violations(requirement.properties!.key!, 'team name').join(), /key must be a name of at most 63 characters/);
    assert.deepEqual(violations(requirement.properties!.key!, 'example.com/team'), []);
    assert.match(violations(requirement.properties!.values!.items!, 'web team').join(), /must be a label value/);
    assert.match(violations(at('spec.secretSelector.matchLabels'), { 'team name': 'web' }).join(), /every key of matchLabels/);
    assert.equal(at('spec.secretSelector.matchLabels').maxProperties, 64);
  });
});

describe('DeployHook webhook rules', () => {
  const at = (path: string) => schemaAt('DeployHook', `spec.webhook.${path}`);

  test('the url: a host, a port up to 65535, no spaces or control characters, no fragment', () => {
    for (const ok of ['https://hooks.example.com/cert', 'https://hooks.example.com:8443', 'https://[2001:db8::1]:443/x?y=1', 'http://localhost:8080/hook', 'https://h.example.com?x=1']) {
      assert.deepEqual(violations(at('url'), ok), [], ok);
    }
    const refused: [string, RegExp][] = [
      ['https:///cert', /needs a host/],
      ['https://', /needs a host/],
      ['https://hooks.example.com:99999/cert', /port \(if any\) from 0 to 65535/],
      ['https://hooks.example.com:80a/cert', /needs a host/],
      ['https://hooks.example.com/cert path', /cannot hold spaces or control characters/],
      ['https://hooks.example.com/cert\n', /cannot hold spaces or control characters/],
      ['https://hooks.example.com/cert#top', /a fragment/],
    ];
    for (const [url, message] of refused) assert.match(violations(at('url'), url).join(), message, JSON.stringify(url));
  });

  test('header values stay on one line; a header is set once, whatever its case', () => {
    assert.deepEqual(violations(at('headers[].value'), 'edge team\tA'), []);
    for (const bad of ['edge\r\nX-Admin: true', 'edge\n', 'a\u0000b']) assert.match(violations(at('headers[].value'), bad).join(), /cannot hold a line break/, JSON.stringify(bad));
    const headers = at('headers');
    assert.deepEqual(violations(headers, [{ name: 'X-Team', value: 'a' }, { name: 'X-Env', value: 'b' }]), []);
    assert.match(violations(headers, [{ name: 'X-Team', value: 'a' }, { name: 'x-team', value: 'b' }]).join(), /header names are case-insensitive/);
  });
});
