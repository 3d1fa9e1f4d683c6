// The chart rendered by the real helm 4, for the chart's tests: every object it renders is checked
// against the Kubernetes schemas (kube-schema.ts) as it is rendered, so no values combination a
// test uses can produce an object the API server would refuse or prune.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { runTool, type ToolResult } from '../support/tools.ts';
import { hasModel, unknownFields, validateModel, type Rendered } from './kube-schema.ts';
import type { PodSpec } from './pod-security.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CHART = join(ROOT, 'helm', 'certhook');
export const RELEASE_NAMESPACE = 'certhook-system';

/** `--set` values and other flags (`-f file`, `--set-json …`) of one rendering. */
export const valueArgs = (sets: string[], flags: string[] = []) => [...sets.flatMap((s) => ['--set', s]), ...flags];

export const templateArgs = (sets: string[], flags: string[] = [], chart = CHART) => ['template', 'certhook', chart, '--namespace', RELEASE_NAMESPACE, ...valueArgs(sets, flags)];

export function parseManifests(yaml: string): Rendered[] {
  return (loadAll(yaml) as (Rendered | null)[]).filter((doc): doc is Rendered => doc !== null);
}

/** What is wrong with a rendered object by the Kubernetes schemas: kubernetes-models' checks, then fields its kind does not have. */
export function schemaProblems(object: Rendered): string[] {
  const where = `${object.kind} ${object.metadata.name}`;
  const problems = unknownFields(object).map((path) => `${where}: unknown field ${path}`);
  if (hasModel(object)) {
    try {
      validateModel(object);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  }
  return problems;
}

export interface ChartTool {
  /** helm with its home, cache and config in a temp dir; lint and template need no cluster. */
  helm(args: string[]): Promise<ToolResult>;
  /** helm template's objects, each asserted valid by the Kubernetes schemas. */
  render(sets?: string[], flags?: string[]): Promise<Rendered[]>;
  /** Why helm template refuses these values. */
  renderError(sets: string[], flags?: string[]): Promise<string>;
  close(): Promise<void>;
}

export async function chartTool(): Promise<ChartTool> {
  const home = await mkdtemp(join(tmpdir(), 'certhook-helm-'));
  const helm = (args: string[]) => runTool('helm', join(home, 'kubeconfig'), args);
  return {
    helm,
    async render(sets = [], flags = []) {
      const result = await helm(templateArgs(sets, flags));
      assert.equal(result.code, 0, result.stderr);
      const objects = parseManifests(result.stdout);
      assert.deepEqual(objects.flatMap(schemaProblems), [], `rendered with ${[...sets, ...flags].join(' ') || 'the defaults'}`);
      return objects;
    },
    async renderError(sets, flags = []) {
      const result = await helm(templateArgs(sets, flags));
      assert.notEqual(result.code, 0, `rendered with ${[...sets, ...flags].join(' ')}`);
      return result.stderr;
    },
    close: () => rm(home, { recursive: true, force: true }),
  };
}

export function only(objects: Rendered[], kind: string): Rendered & Record<string, any> {
  const matching = objects.filter((o) => o.kind === kind);
  assert.equal(matching.length, 1, `expected one ${kind}, rendered ${matching.length}`);
  return matching[0]!;
}

export const kinds = (objects: Rendered[]) => objects.map((o) => o.kind).sort();

/** The objects of one app.kubernetes.io/component: operator, metrics, rbac (people's roles) or crds. */
export const ofComponent = (objects: Rendered[], component: string) => objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === component);

export const podSpec = (objects: Rendered[]): PodSpec & Record<string, any> => only(objects, 'Deployment').spec.template.spec;
export const operatorContainer = (objects: Rendered[]) => podSpec(objects).containers.find((c) => c.name === 'operator') as Record<string, any>;
