import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { schemaAt, violations } from './crd-schema.ts';

const command = schemaAt('DeployHook', 'spec.job.command');

function rejection(text: string): string[] {
  return violations(command, text);
}

describe('command guardrails (CEL rules on spec.job.command)', () => {
  const ordinary = [
    '/usr/sbin/nginx -s reload',
    'nginx -s reload',
    'scp -i /etc/certmate/deploy_key "$CERTMATE_FULLCHAIN_PATH" "$CERTMATE_KEY_PATH" deploy@nginx-2.internal:/etc/nginx/certs/$CERTMATE_DOMAIN/ && ssh deploy@nginx-2.internal \'sudo systemctl reload nginx\'',
    'aws s3 cp "$CERTMATE_FULLCHAIN_PATH" "s3://my-certs-bucket/$CERTMATE_DOMAIN/fullchain.pem" --sse aws:kms --acl private',
    'if [ "$CERTMATE_EVENT" = "revoked" ]; then curl -X POST "$PAGERDUTY_URL" -d "{}"; fi',
    'if [ -n "$CERTMATE_DRY_RUN" ]; then\n  echo "dry-run, skipping deploy"\n  exit 0\nfi\n./deploy.sh',
    'rm -rf /tmp/x',
    'rm -f /etc/nginx/certs/old.pem && nginx -s reload',
    'rm -rf ./build/ dir/ "$DIR"/',
    'rm -f x; cd / && ls',
    'find /var/cache -name "*.pem" -exec rm {} \\;',
    './evaluate.sh --mode=retrieval',
    'node --eval "console.log(1)"',
    'grep -r eval /srv/app && kubectl rollout restart deploy/eval',
    'echo "medieval"',
    '[ -n "$X" ] || :',
    'f() { :; }; f',
    'echo ${CERTMATE_DOMAIN:-none}',
    'cat /etc/passwd /etc/shadowsocks/config.json',
    'cp /host/etc/shadow.d/x /tmp',
  ];
  for (const text of ordinary) {
    test(`accepts ${JSON.stringify(text)}`, () => assert.deepEqual(rejection(text), []));
  }

  const dangerous: Array<[string, RegExp]> = [
    ['eval "$CMD"', /must not use eval/],
    ['echo hi; eval $x', /must not use eval/],
    ['true && eval "$(cat script)"', /must not use eval/],
    ['echo $(eval echo hi)', /must not use eval/],
    ['if true; then eval "$X"; fi', /must not use eval/],
    ['echo hi\n  eval x', /must not use eval/],
    ['`eval x`', /must not use eval/],
    ['rm -rf /', /root directory/],
    ['rm -rf / ', /root directory/],
    ['sudo rm -rf --no-preserve-root /', /root directory/],
    ['rm -fr /*', /root directory/],
    ['rm -rf "/"', /root directory/],
    ['cd /tmp && rm -rf /; echo done', /root directory/],
    ['/bin/rm -r -f /tmp/x /', /root directory/],
    [':(){ :|:& };:', /fork bomb/],
    [':(){:|:&};:', /fork bomb/],
    [': ( ) { : | : & } ; :', /fork bomb/],
    ['cat /etc/shadow', /\/etc\/shadow/],
    ['cp /etc/shadow /tmp/x', /\/etc\/shadow/],
    ['cat</etc/gshadow', /\/etc\/shadow/],
    ['grep root "/etc/shadow-"', /\/etc\/shadow/],
    ['   ', /must not be blank/],
  ];
  for (const [text, message] of dangerous) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      const messages = rejection(text);
      assert.equal(messages.length, 1, `expected exactly one rule to fire, got ${JSON.stringify(messages)}`);
      assert.match(messages[0]!, message);
    });
  }

  test('every message says what to change', () => {
    for (const { message } of command['x-kubernetes-validations']!) assert.match(message, /^command must not .+: .+/);
  });
});
