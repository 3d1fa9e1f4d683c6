// Every CEL rule of the generated CRDs stays within the API server's cost limits, estimated as
// apiextensions-apiserver estimates them when a CRD is written (src/schema/cel-cost.ts): a CRD
// over them would be refused by kubectl apply, and a rule over the per-call limit could fail at
// run time.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { customResourceDefinitions } from '../../src/api/crd.ts';
import {
  PER_CALL_LIMIT,
  ruleCosts,
  STATIC_ESTIMATED_COST_LIMIT,
  STATIC_ESTIMATED_CRD_COST_LIMIT,
  type RuleCost,
} from '../../src/schema/cel-cost.ts';
import type { JSONSchemaProps } from '../../src/schema/structural.ts';

const describeRule = (c: RuleCost) => `${c.path}: ${c.rule} (cost ${c.cost} × cardinality ${c.cardinality} = ${c.total})`;

describe('the CRDs\' CEL rules within the API server\'s cost budget', () => {
  for (const crd of customResourceDefinitions()) {
    test(crd.metadata.name, () => {
      const costs = ruleCosts(crd.spec.versions[0]!.schema.openAPIV3Schema as JSONSchemaProps);
      assert.ok(costs.length > 0);
      for (const c of costs) {
        assert.ok(Number.isFinite(c.cardinality), `${describeRule(c)}: a list or map around it has no maxItems or maxProperties`);
        assert.ok(c.total <= STATIC_ESTIMATED_COST_LIMIT, `${describeRule(c)}: over StaticEstimatedCostLimit`);
        assert.ok(c.cost <= PER_CALL_LIMIT, `${describeRule(c)}: one evaluation could exceed PerCallLimit`);
      }
      const total = costs.reduce((n, c) => n + c.total, 0);
      assert.ok(total <= STATIC_ESTIMATED_CRD_COST_LIMIT, `total ${total}: over StaticEstimatedCRDCostLimit`);
    });
  }
});

describe('the cost estimate', () => {
  const costOf = (schema: JSONSchemaProps) => ruleCosts({ type: 'object', properties: { spec: schema } }).map((c) => [c.cost, c.cardinality]);
  const rule = (text: string) => [{ rule: text, message: 'm' }];

  test("cel-go's model: a string is 4 bytes a character, matches costs its traversal times a quarter of the regex", () => {
    // (4 × 10 + 1) bytes × 0.1 → 5, times ceil(0.25 × 4) → 1; the call 5, the identifier 1.
    assert.deepEqual(costOf({ type: 'string', maxLength: 10, 'x-kubernetes-validations': rule("self.matches('^a+$')") }), [[6, 1]]);
    assert.deepEqual(costOf({ type: 'string', maxLength: 1000, 'x-kubernetes-validations': rule("self.startsWith('abc')") }), [[2, 1]]);
    assert.deepEqual(costOf({ type: 'string', maxLength: 100, 'x-kubernetes-validations': rule("self == 'x'") }), [[2, 1]]);
  });

  test('a comprehension costs its range times its body; rules inside lists and maps are multiplied by their bounds', () => {
    const list: JSONSchemaProps = { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 10 }, 'x-kubernetes-validations': rule("self.all(x, x.startsWith('a'))") };
    const [[cost]] = costOf(list) as [[number, number]];
    assert.ok(cost >= 8 * 2, `${cost}`);
    const nested: JSONSchemaProps = { type: 'array', maxItems: 8, items: { type: 'object', maxProperties: 4, additionalProperties: { type: 'string', maxLength: 5, 'x-kubernetes-validations': rule('size(self) > 0') } } };
    assert.equal(costOf(nested)[0]![1], 32);
  });

  test('what the API server would refuse is over the limits: an unbounded string, an unbounded list, an unknown function', () => {
    const unbounded = ruleCosts({ type: 'object', properties: { spec: { type: 'string', 'x-kubernetes-validations': rule("self.matches('^[a-z]+([.][a-z]+)*$')") } } })[0]!;
    assert.ok(unbounded.cost > PER_CALL_LIMIT, `${unbounded.cost}`);
    const inList = ruleCosts({ type: 'object', properties: { spec: { type: 'array', items: { type: 'string', maxLength: 5, 'x-kubernetes-validations': rule('size(self) > 0') } } } })[0]!;
    assert.equal(inList.cardinality, Infinity);
    assert.throws(() => ruleCosts({ type: 'object', properties: { spec: { type: 'string', 'x-kubernetes-validations': rule('self.reverse() == self') } } }), /no cost model for reverse/);
  });

  test('map keys are sized 0, as the API server sizes them; a map without maxProperties is unbounded', () => {
    const map = (maxProperties?: number): JSONSchemaProps => ({ type: 'object', ...(maxProperties ? { maxProperties } : {}), additionalProperties: { type: 'string' }, 'x-kubernetes-validations': rule("self.all(k, k.matches('^[a-z]+$'))") });
    // Each key: the loop condition 2, the step 5 (the key 1, matches 1 × 2, the accumulator 1, && 1):
    // cel-go's 6 and one more for the &&; then the range and the result, 1 each.
    assert.deepEqual(costOf(map(4)), [[4 * 7 + 2, 1]]);
    assert.ok((costOf(map())[0]![0] as number) > 1_000_000);
  });
});
