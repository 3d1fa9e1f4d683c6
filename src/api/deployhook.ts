// DeployHook: what to run when a TLS Secret's certificate is created, renewed or revoked.
// The zod schemas are the one source: the CRD (crd.ts) is generated from them and the operator
// validates against that CRD, so every constraint lives here, as OpenAPI or CEL.
import { z } from 'zod';
import { COMMAND_GUARDRAILS } from './command-guardrails.ts';
import { CERTIFICATE_EVENTS, CertificateEventSchema, FailurePolicySchema, RunEventSchema, RunPhaseSchema, StageSchema } from './enums.ts';
import { HOOK_POD_FIELDS } from './hook-pod.ts';
import { dataKey, DNS_SUBDOMAIN, matchesRule, objectName } from './kube-names.ts';
import { ConditionSchema, LabelSelectorSchema, ObjectMetaSchema, timestamp } from './metav1.ts';
import { API_VERSION, CLUSTER_DEPLOY_HOOK, DEPLOY_HOOK } from './names.ts';

/** An exact DNS name, or `*.` followed by one: the wildcard stands for exactly one label. */
const DOMAIN_PATTERN = `([*][.])?${DNS_SUBDOMAIN}`;

/**
 * A container image reference as the container runtime parses it (the distribution reference
 * grammar): [registry[:port]/]path[:tag][@sha256:hex]; repository path components lowercase.
 */
const DOMAIN_COMPONENT = '([a-zA-Z0-9]|[a-zA-Z0-9][-a-zA-Z0-9]*[a-zA-Z0-9])';
const PATH_COMPONENT = '[a-z0-9]+(([.]|_|__|-+)[a-z0-9]+)*';
const IMAGE_REFERENCE =
  `(${DOMAIN_COMPONENT}([.]${DOMAIN_COMPONENT})*(:[0-9]+)?/)?${PATH_COMPONENT}(/${PATH_COMPONENT})*` +
  '(:[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?(@(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128}))?';

/** A TCP port number, 0 to 65535, as a URL spells it. */
const PORT = '([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';

const KeySelectorSchema = z.object({
  name: objectName('name', "Name of the object in the hook's namespace."),
  key: dataKey("The key whose value becomes the variable's value."),
  optional: z
    .boolean()
    .optional()
    .describe('Whether the Job may start when the object or key is missing (the variable is then unset).'),
});

const SecretKeyRefSchema = z
  .object({
    name: objectName('name', "Name of the Secret in the hook's namespace."),
    key: dataKey('The key of the Secret that holds the value.'),
  })
  .describe('A key of a Secret in the hook\'s namespace.');

export const EnvVarSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(256)
      .meta({
        description: 'Name of the environment variable. Names starting with CERTMATE_ are reserved for the variables certhook sets.',
        'x-kubernetes-validations': [
          matchesRule('[-._a-zA-Z][-._a-zA-Z0-9]*', "an env name consists of letters, digits, '_', '-' and '.', and does not start with a digit (e.g. API_TOKEN)"),
          {
            rule: "!self.startsWith('CERTMATE_')",
            message: 'env names starting with CERTMATE_ are reserved for the variables certhook sets: choose another name',
          },
        ],
      }),
    value: z.string().max(32768).optional().describe('Literal value. Set either value or valueFrom.'),
    valueFrom: z
      .object({
        secretKeyRef: KeySelectorSchema.optional().describe('Take the value from a key of a Secret.'),
        configMapKeyRef: KeySelectorSchema.optional().describe('Take the value from a key of a ConfigMap.'),
      })
      .meta({
        description: 'Take the value from a Secret or ConfigMap key. Set either value or valueFrom.',
        'x-kubernetes-validations': [
          {
            rule: 'has(self.secretKeyRef) != has(self.configMapKeyRef)',
            message: 'valueFrom needs exactly one of secretKeyRef or configMapKeyRef',
          },
        ],
      })
      .optional(),
  })
  .meta({
    description: 'An extra environment variable for the hook (core/v1 EnvVar).',
    'x-kubernetes-validations': [
      { rule: '!(has(self.value) && has(self.valueFrom))', message: 'set either value or valueFrom, not both' },
    ],
  });
export type EnvVar = z.infer<typeof EnvVarSchema>;

export const HookJobSchema = z
  .object({
    command: z
      .string()
      .min(1)
      .max(1024)
      .meta({
        description:
          'Shell command, run as `sh -c` exactly as written (no Kubernetes $(VAR) expansion), at most 1024 ' +
          'characters (put longer logic in a script). The certificate files and CERTMATE_* variables describe the ' +
          'certificate that fired the run. Obviously dangerous shapes (eval, rm of /, fork bombs, reading ' +
          '/etc/shadow) are rejected.',
        'x-kubernetes-validations': COMMAND_GUARDRAILS,
      }),
    image: z
      .string()
      .min(1)
      .max(1024)
      .meta({
        description: "Container image that runs the command. Defaults to the image in the operator's configuration.",
        'x-kubernetes-validations': [
          matchesRule(
            IMAGE_REFERENCE,
            'image must be a container image reference such as registry.example.com/team/tool:1.2 or alpine@sha256:<64 hex digits>: ' +
              'no spaces, a lowercase repository, a tag (letters, digits, _ . -) after a colon',
          ),
        ],
      })
      .optional(),
    serviceAccountName: objectName(
      'serviceAccountName',
      "ServiceAccount of the hook's namespace the Job runs as, with its API token mounted. By default none is used and no API token is mounted.",
    ).optional(),
    env: z
      .array(EnvVarSchema)
      .max(64)
      .optional()
      .meta({
        description: 'Extra environment variables for the command, beside the CERTMATE_* ones.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    retries: z
      .int()
      .min(0)
      .max(5)
      .default(0)
      .describe(
        'Attempts after a failed first one (0 to 5): each a new pod of the Job, after the Job controller\'s backoff ' +
          '(10 s, doubling). Each attempt has its own timeoutSeconds and is recorded on the run.',
      ),
    ...HOOK_POD_FIELDS,
  })
  .describe('Run the hook as a Kubernetes Job in the hook\'s namespace.');
export type HookJob = z.infer<typeof HookJobSchema>;

/** Headers certhook sets itself on every delivery; a hook may not set them. */
export const RESERVED_WEBHOOK_HEADERS = [
  'content-type', 'content-length', 'host', 'connection', 'transfer-encoding', 'user-agent',
  'webhook-id', 'webhook-timestamp', 'webhook-signature', 'idempotency-key',
] as const;
/** Headers whose value is a credential: they may only come from a Secret. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];
const celList = (items: readonly string[]) => `[${items.map((i) => `'${i}'`).join(', ')}]`;

export const WebhookHeaderSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(256)
      .meta({
        description: 'Header name (an HTTP token).',
        'x-kubernetes-validations': [
          matchesRule(
            String.raw`[!#$%&\x27*+.^_\x60|~0-9A-Za-z-]+`,
            "a header name is an HTTP token: letters, digits and !#$%&'*+-.^_`|~, without spaces or a colon (e.g. X-Team)",
          ),
          {
            rule: `!(self.lowerAscii() in ${celList(RESERVED_WEBHOOK_HEADERS)})`,
            message: `certhook sets this header itself: ${RESERVED_WEBHOOK_HEADERS.join(', ')} cannot be set on a webhook`,
          },
        ],
      }),
    value: z
      .string()
      .max(8192)
      .meta({
        description: 'Literal value. Not allowed for Authorization, Proxy-Authorization and Cookie: use valueFrom.',
        'x-kubernetes-validations': [
          {
            rule: "!self.matches(r'[\\x00-\\x08\\x0a-\\x1f\\x7f]')",
            message: 'a header value cannot hold a line break or another control character (it would end the header): remove it',
          },
        ],
      })
      .optional(),
    valueFrom: z
      .object({ secretKeyRef: SecretKeyRefSchema.describe('Take the value from a key of a Secret.') })
      .describe('Take the value from a Secret key, read at each delivery.')
      .optional(),
  })
  .meta({
    description: 'An HTTP header sent with each delivery.',
    'x-kubernetes-validations': [
      { rule: 'has(self.value) != has(self.valueFrom)', message: 'set exactly one of value or valueFrom' },
      {
        rule: `!(has(self.value) && self.name.lowerAscii() in ${celList(CREDENTIAL_HEADERS)})`,
        message: 'a credential never stands in the hook in plain text: take this header from a Secret with valueFrom.secretKeyRef',
      },
    ],
  });
export type WebhookHeader = z.infer<typeof WebhookHeaderSchema>;

export const HookWebhookSchema = z
  .object({
    url: z
      .string()
      .min(1)
      .max(2048)
      .meta({
        description:
          'Where to POST: an https URL (http only for localhost, 127.0.0.1 and [::1]). The address it resolves to ' +
          'is checked at each connection: loopback (unless the host is a loopback name), link-local and metadata, ' +
          'private and other special addresses are refused unless the operator allowlists them.',
        'x-kubernetes-validations': [
          {
            rule: "self.startsWith('https://') || self.matches('^http://(localhost|127[.]0[.]0[.]1|\\\\[::1\\\\])(:[0-9]+)?([/?].*)?$')",
            message: 'the url must be https (http is only allowed for localhost, 127.0.0.1 and [::1])',
          },
          {
            rule: "!self.matches('^[A-Za-z][-+.A-Za-z0-9]*://[^/?#]*@')",
            message: 'credentials never stand in the url: send them in a header taken from a Secret with valueFrom.secretKeyRef',
          },
          {
            rule: "!self.matches(r'[\\s\\x00-\\x1f\\x7f]')",
            message: 'the url cannot hold spaces or control characters: percent-encode them (a space is %20)',
          },
          {
            rule: `self.matches(r'^[A-Za-z][-+.A-Za-z0-9]*://([^/?#@]*@)?(\\[[0-9A-Fa-f:.]+\\]|[^\\[\\]/?#@:]+)(:${PORT})?([/?#]|$)')`,
            message: 'the url needs a host after the scheme, and a port (if any) from 0 to 65535: https://host[:port]/path',
          },
          { rule: "!self.contains('#')", message: 'a fragment (#…) is not allowed: it is never sent to the receiver' },
        ],
      }),
    headers: z
      .array(WebhookHeaderSchema)
      .max(32)
      .optional()
      .meta({
        description: 'Extra HTTP headers, each a literal value or a Secret key.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        'x-kubernetes-validations': [
          {
            // The list's map key tells X-Team from x-team; HTTP does not.
            rule: 'self.all(h, self.exists_one(o, o.name.lowerAscii() == h.name.lowerAscii()))',
            message: 'header names are case-insensitive: the same header is set twice, in two spellings; keep one',
          },
        ],
      }),
    signing: z
      .object({
        secretRef: SecretKeyRefSchema.describe(
          'The Secret key holding the signing secret, whsec_ followed by base64 (24 to 64 bytes); several, ' +
            'separated by spaces, during a key rotation (each signs).',
        ),
      })
      .optional()
      .describe('Sign each delivery with the Standard Webhooks scheme (webhook-id, webhook-timestamp, webhook-signature headers).'),
    includePrivateKey: z
      .boolean()
      .default(false)
      .describe('Send the private key (private_key_pem, .PrivateKeyPEM). Off by default: turn it on only for a receiver that needs the key.'),
    retries: z.int().min(0).max(10).default(3).describe('Attempts after the first, on 5xx, 408, 429, connection errors and timeouts (0 to 10).'),
    concurrency: z.int().min(1).max(64).default(4).describe('Deliveries of this hook in flight at once (1 to 64).'),
    caBundle: z
      .string()
      .max(65536)
      .optional()
      .describe("Base64-encoded PEM of the CA certificates that sign the receiver's certificate, when it is not a public CA."),
    body: z
      .looseObject({})
      .meta({
        description:
          'The request body, as a structure (default: the standard payload). A string value may hold ' +
          '{{ .Field }} placeholders: a value that is exactly one placeholder takes the field\'s typed value, ' +
          'placeholders in longer text interpolate as text.',
        'x-kubernetes-preserve-unknown-fields': true,
      })
      .optional(),
  })
  .describe('Deliver the certificate event as a signed HTTPS POST.');
export type HookWebhook = z.infer<typeof HookWebhookSchema>;

/** The fields of a hook's spec, the same for both kinds of hook. */
const HOOK_SPEC_FIELDS = {
    enabled: z
      .boolean()
      .default(true)
      .describe('Whether the hook fires on certificate events. A disabled hook never fires by itself; manual runs still work.'),
    onEvents: z
      .array(CertificateEventSchema)
      .min(1)
      .max(CertificateEventSchema.options.length)
      .default([...CERTIFICATE_EVENTS])
      .meta({
        description:
          'Certificate events the hook fires on: created (the TLS Secret appeared), renewed (its certificate ' +
          'changed), revoked (the Secret was deleted) and expiring (the certificate is within expiringWithin of its ' +
          'notAfter and no renewal came). Defaults to created, renewed and revoked.',
        'x-kubernetes-list-type': 'set',
      }),
    domains: z
      .array(
        z
          .string()
          .min(1)
          .max(253)
          .meta({
            'x-kubernetes-validations': [
              matchesRule(
                DOMAIN_PATTERN,
                "a domain is a lowercase DNS name (api.example.com) or a wildcard of one label (*.example.com): letters, digits, '-' and '.'",
              ),
              { rule: "!self.matches(r'[^.]{64}')", message: 'each label of a domain (the parts between dots) is at most 63 characters, as DNS allows' },
            ],
          }),
      )
      .min(1)
      .max(100)
      .optional()
      .meta({
        description:
          'DNS names the hook is for: lowercase exact names (api.example.com) or one-label wildcards (*.example.com). ' +
          'A certificate matches if any of its DNS names matches. Omit to match every certificate the selector allows.',
        'x-kubernetes-list-type': 'set',
      }),
    secretSelector: LabelSelectorSchema.optional().describe(
      'Labels of the TLS Secrets the hook is for. Omit to consider every TLS Secret in the namespace (for a ClusterDeployHook: in every namespace it selects).',
    ),
    expiringWithin: z
      .string()
      .min(2)
      .max(32)
      .default('336h')
      .meta({
        description:
          'With the expiring event: how long before its notAfter a certificate that no renewal replaced fires it, as a ' +
          'duration (168h, 90m); once per certificate version. Default 336h (14 days).',
        'x-kubernetes-validations': [
          matchesRule('([0-9]+h)?([0-9]+m)?([0-9]+s)?', 'expiringWithin is a duration in hours, minutes and seconds, such as 336h, 90m or 1h30m (no days: 14 days is 336h)'),
        ],
      }),
    timeoutSeconds: z
      .int()
      .min(1)
      .max(300)
      .default(30)
      .describe(
        'Seconds the hook may run before it is stopped and the run fails with TimedOut (1 to 300); for a webhook, ' +
          'how long each request may take.',
      ),
    dryRun: z
      .boolean()
      .default(false)
      .describe('Run the hook with CERTMATE_DRY_RUN=1 so it can report what it would do without doing it.'),
    stage: StageSchema.default('deploy').describe(
      'When the hook runs among the hooks one certificate version fires: every pre hook first, then every deploy ' +
        'hook, then every post hook (post hooks run whatever the outcome, and learn it).',
    ),
    failurePolicy: FailurePolicySchema.optional().describe(
      'Fail: a failure stops the later pre and deploy stages (their runs are Skipped, EarlierStageFailed). Ignore: a ' +
        'failure is only recorded. Default: Fail for pre and deploy hooks, Ignore for post hooks.',
    ),
    historyLimit: z
      .int()
      .min(1)
      .max(100)
      .default(10)
      .describe(
        "How many DeployHookRuns of this hook are kept, besides the latest run for each Secret, which is always kept.",
      ),
    job: HookJobSchema.optional(),
    webhook: HookWebhookSchema.optional(),
};

const ONE_KIND_OF_HOOK = { rule: 'has(self.job) != has(self.webhook)', message: 'set exactly one of job or webhook' };

export const DeployHookSpecSchema = z.object(HOOK_SPEC_FIELDS).meta({
  description: 'What the hook runs and for which certificates.',
  'x-kubernetes-validations': [ONE_KIND_OF_HOOK],
});
export type DeployHookSpec = z.infer<typeof DeployHookSpecSchema>;

export const ClusterDeployHookSpecSchema = z
  .object({
    ...HOOK_SPEC_FIELDS,
    namespaceSelector: LabelSelectorSchema.optional().describe(
      'Labels of the Namespaces whose TLS Secrets the hook is for. Omit to consider every namespace. Relabelling a ' +
        'namespace fires nothing by itself: later certificate events follow the new selection.',
    ),
  })
  .meta({
    description:
      "What the hook runs and for which certificates. Its runs, Jobs and snapshots live in the operator's namespace " +
      '(--cluster-hook-namespace), where job.serviceAccountName and valueFrom references are resolved.',
    'x-kubernetes-validations': [ONE_KIND_OF_HOOK],
  });
export type ClusterDeployHookSpec = z.infer<typeof ClusterDeployHookSpecSchema>;

/** One run as the hook's status summarises it. */
export const RunSummarySchema = z
  .object({
    name: z.string().min(1).max(253).describe('Name of the DeployHookRun.'),
    event: RunEventSchema.optional().describe('The event that fired the run: created, renewed, revoked or manual.'),
    phase: RunPhaseSchema.optional().describe('Phase of the run: Pending, Waiting, Running, Succeeded, Failed, Skipped or Unknown.'),
    reason: z.string().max(128).optional().describe('Why the run is in its phase, e.g. Completed, ExitCode, TimedOut.'),
    exitCode: z.int32().optional().describe("The hook's exit code, when it ran to completion."),
    secretName: z.string().max(253).optional().describe('Name of the TLS Secret the run was for.'),
    secretNamespace: z.string().max(63).optional().describe("For a ClusterDeployHook's run: the namespace of its TLS Secret."),
    domain: z.string().max(253).optional().describe("The certificate's primary name (first DNS name, else common name)."),
    startTime: timestamp('When the run started.').optional(),
    completionTime: timestamp('When the run finished.').optional(),
  })
  .describe('Summary of one DeployHookRun.');
export type RunSummary = z.infer<typeof RunSummarySchema>;

const countSchema = (description: string) => z.int().min(0).optional().describe(description);

const HOOK_STATUS_FIELDS = {
    observedGeneration: z
      .int()
      .min(0)
      .optional()
      .describe('The .metadata.generation this status describes.'),
    type: z.enum(['job', 'webhook']).optional().describe('What the hook runs: a Job or a webhook.'),
    // kubectl's printer columns print a list as a JSON array; these read as people write them.
    events: z.string().max(64).optional().describe('spec.onEvents as one comma-separated string (created,renewed,revoked), for kubectl get.'),
    domains: z.string().max(25_400).optional().describe('spec.domains as one comma-separated string, for kubectl get -o wide; absent when the hook is for every domain.'),
    selector: z
      .string()
      .max(65_536)
      .optional()
      .describe("spec.secretSelector in kubectl's selector syntax (app=web,tier in (edge,api)), for kubectl get -o wide; absent when the hook takes every TLS Secret."),
    conditions: z.array(ConditionSchema).optional().meta({
      description:
        'Current state of the hook. Ready=False means the hook is invalid and never runs; the message says what to fix. ' +
        "A webhook also has Reachable: the result of probing its URL, or of its last delivery's answer.",
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
    lastRun: RunSummarySchema.optional().describe('The most recent run of the hook.'),
    totals: z
      .object({
        succeeded: countSchema('Runs that succeeded.'),
        failed: countSchema('Runs that failed.'),
        skipped: countSchema('Runs that were skipped.'),
      })
      .optional()
      .describe('How many runs of the hook ended in each final phase.'),
    history: z
      .array(RunSummarySchema)
      .max(20)
      .optional()
      .describe('Recent runs of the hook, newest first.'),
};

export const DeployHookStatusSchema = z.object(HOOK_STATUS_FIELDS).describe('Observed state of the hook.');

export const ClusterDeployHookStatusSchema = z
  .object({
    ...HOOK_STATUS_FIELDS,
    runNamespace: z
      .string()
      .max(63)
      .optional()
      .describe("The namespace the hook's DeployHookRuns, Jobs and snapshots live in (the operator's --cluster-hook-namespace)."),
    namespaces: z
      .string()
      .max(65_536)
      .optional()
      .describe("spec.namespaceSelector in kubectl's selector syntax, for kubectl get; absent when the hook takes every namespace."),
  })
  .describe('Observed state of the hook.');
/** A hook's status, of either kind (the cluster kind's fields absent on a DeployHook's). */
export type DeployHookStatus = z.infer<typeof ClusterDeployHookStatusSchema>;

export const DeployHookSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(DEPLOY_HOOK.kind),
    metadata: ObjectMetaSchema,
    spec: DeployHookSpecSchema,
    status: DeployHookStatusSchema.optional(),
  })
  .describe(
    'A DeployHook runs a command when a TLS Secret in its namespace gets a new certificate (created), ' +
      'a changed certificate (renewed) or is deleted (revoked). Each firing is recorded as a DeployHookRun.',
  );
export type DeployHook = z.infer<typeof DeployHookSchema>;

export const ClusterDeployHookSchema = z
  .object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(CLUSTER_DEPLOY_HOOK.kind),
    metadata: ObjectMetaSchema,
    spec: ClusterDeployHookSpecSchema,
    status: ClusterDeployHookStatusSchema.optional(),
  })
  .describe(
    'A ClusterDeployHook is a DeployHook for the TLS Secrets of every namespace its namespaceSelector selects, for ' +
      "platform teams. Its DeployHookRuns and Jobs live in the operator's namespace, out of the tenants' reach.",
  );
export type ClusterDeployHook = z.infer<typeof ClusterDeployHookSchema>;

/** A hook of either kind: what fires, plans and runs treats them alike. */
export type Hook = DeployHook | ClusterDeployHook;
