import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { PayloadFields } from '../../../src/runners/webhook/payload.ts';
import { compileBody, type CompiledBody } from '../../../src/runners/webhook/template.ts';
import { CHAIN, fields, KEY, LEAF } from './fields.ts';

function compiled(body: unknown, includePrivateKey = false): Extract<CompiledBody, { ok: true }> {
  const result = compileBody(body, { includePrivateKey });
  assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  return result;
}

/** The body as the receiver parses it. */
const sent = (body: unknown, f: PayloadFields = fields(), includePrivateKey = false) =>
  JSON.parse(JSON.stringify(compiled(body, includePrivateKey).render(f))) as unknown;

const problems = (body: unknown, includePrivateKey = false) => {
  const result = compileBody(body, { includePrivateKey });
  assert.equal(result.ok, false);
  return result.ok ? [] : result.problems;
};

describe('compileBody renders', () => {
  test('the GitLab CI variable example with a multi-line PEM', () => {
    const body = { variable_type: 'env_var', key: 'TLS_FULLCHAIN', value: '{{ .FullChainPEM }}', protected: true };
    assert.deepEqual(sent(body), { variable_type: 'env_var', key: 'TLS_FULLCHAIN', value: LEAF + CHAIN, protected: true });
    assert.ok((LEAF + CHAIN).includes('\n') && LEAF.includes('"'));
  });

  test('placeholders inside text, with or without spaces in the braces', () => {
    assert.deepEqual(sent({ text: 'cert for {{ .Domain }} ({{.Event}})' }), { text: 'cert for api.example.com (renewed)' });
    assert.equal(sent('dry run: {{ .DryRun }}, serial {{.Serial}}'), 'dry run: false, serial 6f4fa2');
  });

  test('a leaf that is exactly one placeholder as the field\'s typed value', () => {
    const body = { domains: '{{ .Domains }}', dry: '{{.DryRun}}', nested: [['{{ .Domain }}']] };
    assert.deepEqual(sent(body, fields({ DryRun: true })), { domains: ['api.example.com', 'www.example.com'], dry: true, nested: [['api.example.com']] });
    assert.equal(sent(' {{ .DryRun }}'), ' false');
  });

  test('other JSON values as they are', () => {
    const body = { n: 1.5, z: 0, t: true, f: false, nil: null, empty: '', list: [1, 'two', { three: [] }], 'x-y': {} };
    assert.deepEqual(sent(body), body);
    assert.equal(sent(42), 42);
  });

  test('the private key only when included, null or empty when it is unknown', () => {
    const body = { key: '{{ .PrivateKeyPEM }}', note: 'key: {{ .PrivateKeyPEM }}' };
    const withKey = compiled(body, true);
    assert.equal(withKey.usesPrivateKey, true);
    assert.deepEqual(withKey.render(fields()), { key: KEY, note: `key: ${KEY}` });
    assert.deepEqual(withKey.render(fields({ PrivateKeyPEM: undefined })), { key: null, note: 'key: ' });
    assert.equal(compiled({ cert: '{{ .CertPEM }}' }, true).usesPrivateKey, false);
  });

  test('compiled once, rendered for many events', () => {
    const body = compiled({ event: '{{ .Event }}', who: 'for {{ .Domain }}' });
    assert.deepEqual(body.render(fields()), { event: 'renewed', who: 'for api.example.com' });
    assert.deepEqual(body.render(fields({ Event: 'revoked', Domain: 'b.example.com' })), { event: 'revoked', who: 'for b.example.com' });
  });

  test('a "__proto__" key as a key', () => {
    const body = JSON.parse('{"__proto__": {"polluted": "{{ .Domain }}"}}') as unknown;
    assert.equal(JSON.stringify(compiled(body).render(fields())), '{"__proto__":{"polluted":"api.example.com"}}');
  });
});

describe('compileBody refuses', () => {
  test('an unknown field, saying which fields exist', () => {
    const [problem, ...rest] = problems({ value: '{{ .Domian }}' });
    assert.deepEqual(rest, []);
    assert.match(problem!, /^spec\.webhook\.body\.value: unknown field \.Domian: the fields are \.CertPEM, \.ChainPEM, .*\.TriggeredBy, \.Result, \.FailedHooks$/);
    assert.match(problems({ value: '{{ .domain }}' })[0]!, /^spec\.webhook\.body\.value: unknown field \.domain \(did you mean \.Domain\?\): /);
    assert.match(problems(['{{ .constructor }}'])[0]!, /^spec\.webhook\.body\[0\]: unknown field \.constructor: /);
  });

  test('a placeholder without its dot', () => {
    assert.deepEqual(problems({ value: '{{ Domain }}' }), ['spec.webhook.body.value: {{ Domain }} needs a dot before the field: write {{ .Domain }}']);
  });

  test('pipes and functions, which JSON-safe templates do not need', () => {
    const notPlaceholder = (raw: string) => `${raw} is not a placeholder: write just {{ .Field }} (certhook templates are JSON-safe by construction and need no printf, pipes or functions)`;
    assert.deepEqual(problems({ value: '{{ .FullChainPEM | printf "%q" }}' }), [`spec.webhook.body.value: ${notPlaceholder('{{ .FullChainPEM | printf "%q" }}')}`]);
    assert.deepEqual(problems(['{{ printf "%s" .Domain }}']), [`spec.webhook.body[0]: ${notPlaceholder('{{ printf "%s" .Domain }}')}`]);
    assert.deepEqual(problems('{{}}'), [`spec.webhook.body: ${notPlaceholder('{{}}')}`]);
    assert.deepEqual(problems('{{ .Domain.Name }}'), [`spec.webhook.body: ${notPlaceholder('{{ .Domain.Name }}')}`]);
    assert.deepEqual(problems('{{- .Domain -}}'), [`spec.webhook.body: ${notPlaceholder('{{- .Domain -}}')}`]);
  });

  test('unbalanced braces', () => {
    assert.deepEqual(problems({ a: 'for {{ .Domain' }), ['spec.webhook.body.a: "{{" without a matching "}}"']);
    assert.deepEqual(problems({ a: 'for .Domain }}' }), ['spec.webhook.body.a: "}}" without a matching "{{"']);
    assert.deepEqual(problems({ a: '{{ .Domain }} }}' }), ['spec.webhook.body.a: "}}" without a matching "{{"']);
  });

  test('a list interpolated into text', () => {
    assert.deepEqual(problems({ items: ['a', 'b', 'names: {{ .Domains }}'] }), [
      'spec.webhook.body.items[2]: cannot interpolate .Domains (a list) into text: make it the whole value',
    ]);
  });

  test('the private key unless included', () => {
    assert.deepEqual(problems({ key: '{{ .PrivateKeyPEM }}' }), [
      'spec.webhook.body.key: .PrivateKeyPEM is not sent by default: set spec.webhook.includePrivateKey: true to send the key',
    ]);
  });

  test('a placeholder in an object key', () => {
    assert.deepEqual(problems({ '{{ .Domain }}': 'x' }), ['spec.webhook.body["{{ .Domain }}"]: object keys are not templated: put the placeholder in a value']);
  });

  test('with paths quoting keys that are not identifiers', () => {
    assert.deepEqual(problems({ 'x-y': '{{ .Nope }}', headers: { 'a b': ['ok', { 'é': '{{ Nope }}' }] } }).map((p) => p.slice(0, p.indexOf(': '))), [
      'spec.webhook.body["x-y"]',
      'spec.webhook.body.headers["a b"][1]["é"]',
    ]);
  });

  test('every problem at once', () => {
    assert.deepEqual(problems({ a: '{{ .A }} and {{ B }}', b: ['{{ .Domains }}!'] }).map((p) => p.slice(0, p.indexOf(': '))), [
      'spec.webhook.body.a',
      'spec.webhook.body.a',
      'spec.webhook.body.b[0]',
    ]);
  });

  test('values that are not JSON', () => {
    assert.deepEqual(problems({ a: undefined, b: [Number.NaN], c: new Date(0) }), [
      'spec.webhook.body.a: not a JSON value',
      'spec.webhook.body.b[0]: not a JSON value',
      'spec.webhook.body.c: not a JSON value',
    ]);
  });
});
