import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { PEM_TEXT_LIMIT, scanPem, type ScanWork } from '../../src/certs/pem.ts';

/** Scans and says how many characters the scanner examined. */
function scanned(text: string) {
  const work: ScanWork = { characters: 0 };
  return { scan: scanPem(text, work), characters: work.characters };
}

describe('scanPem', () => {
  test('blocks in order, their bodies without whitespace, text around them ignored', () => {
    const text = 'intro\r\n-----BEGIN CERTIFICATE-----\r\nAAAA\r\nBBBB\r\n-----END CERTIFICATE-----\r\nmiddle -----BEGIN PRIVATE KEY-----CCCC-----END PRIVATE KEY----- outro';
    assert.deepEqual(scanPem(text), {
      blocks: [{ label: 'CERTIFICATE', base64: 'AAAABBBB' }, { label: 'PRIVATE KEY', base64: 'CCCC' }],
      unclosed: [],
    });
  });

  test('as the regex BEGIN (L) ... END \\1 reads it: an unclosed BEGIN is passed over, a body runs to the first END of its label', () => {
    const text = '-----BEGIN A-----\nxx\n-----BEGIN CERTIFICATE-----\nAAAA\n-----BEGIN B-----\n-----END CERTIFICATE-----\n-----END B-----\n';
    const scan = scanPem(text)!;
    assert.deepEqual(scan.blocks, [{ label: 'CERTIFICATE', base64: 'AAAA-----BEGINB-----' }]);
    assert.deepEqual(scan.unclosed, ['A']);
    const regex = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)].map((m) => ({ label: m[1], base64: m[2]!.replace(/\s+/g, '') }));
    assert.deepEqual(scan.blocks, regex);
  });

  test('markers need their five dashes, a label of capitals, digits and spaces, and no more than 64 of them', () => {
    assert.deepEqual(scanPem('----BEGIN X-----\nAA\n-----END X-----')!.blocks, []);
    assert.deepEqual(scanPem('-----BEGIN x-----\nAA\n-----END x-----')!.blocks, []);
    const long = 'L'.repeat(65);
    assert.deepEqual(scanPem(`-----BEGIN ${long}-----\nAA\n-----END ${long}-----`)!.blocks, []);
    const longest = 'L'.repeat(64);
    assert.deepEqual(scanPem(`-----BEGIN ${longest}-----\nAA\n-----END ${longest}-----`)!.blocks, [{ label: longest, base64: 'AA' }]);
  });

  // A quadratic scan examines each unclosed BEGIN line's whole remainder: for 300 KiB of them, some
  // 17,000 lines times 150 KiB on average, about 2.6 billion characters. This one examines each
  // character a bounded number of times.
  test('lines of unclosed BEGIN markers cost work linear in their length', () => {
    const line = '-----BEGIN X-----\n';
    for (const lines of [1_000, 4_000, 16_000]) {
      const text = line.repeat(lines);
      const { scan, characters } = scanned(text);
      assert.deepEqual(scan, { blocks: [], unclosed: ['X'] });
      assert.ok(characters <= 2 * text.length, `${lines} lines: ${characters} characters examined for ${text.length}`);
    }
  });

  test('so do runs of dashes, labels of every length, distinct labels, unclosed ENDs and nested BEGINs', () => {
    const inputs = [
      '-'.repeat(300_000),
      Array.from({ length: 4_000 }, (_, i) => `-----BEGIN ${'A'.repeat(i % 70)}`).join('-----'),
      Array.from({ length: 5_000 }, (_, i) => `-----BEGIN L${i}-----\n`).join(''),
      '-----END '.repeat(30_000),
      '-----BEGIN CERTIFICATE-----\n'.repeat(5_000) + '-----END CERTIFICATE-----\n',
    ];
    for (const text of inputs) {
      const { characters } = scanned(text);
      // A run of dashes is the worst: each dash starts a candidate whose five dashes and next character are looked at.
      assert.ok(characters <= 8 * text.length, `${characters} characters examined for ${text.length}`);
    }
  });

  test('a text over the limit is not scanned at all', () => {
    const { scan, characters } = scanned('-----BEGIN X-----\n'.repeat(Math.ceil((PEM_TEXT_LIMIT + 1) / 18)));
    assert.equal(scan, undefined);
    assert.equal(characters, 0);
    assert.notEqual(scanPem('A'.repeat(PEM_TEXT_LIMIT)), undefined, 'the limit itself is scanned');
  });
});
