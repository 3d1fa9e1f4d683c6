import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as der from '../../src/certs/der.ts';

const hex = (buffer: Buffer) => buffer.toString('hex');

describe('DER encoding', () => {
  test('object identifiers', () => {
    assert.equal(hex(der.objectIdentifier('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
    assert.equal(hex(der.objectIdentifier('2.5.29.17')), '0603551d11');
  });

  test('integers are minimal and positive', () => {
    assert.equal(hex(der.integer(0)), '020100');
    assert.equal(hex(der.integer(2)), '020102');
    assert.equal(hex(der.integer(0x80)), '02020080');
    assert.equal(hex(der.integer(Buffer.from([0x00, 0x00, 0x7f]))), '02017f');
    assert.equal(hex(der.integer(Buffer.from([0xff, 0x01]))), '020300ff01');
  });

  test('long-form lengths', () => {
    assert.equal(hex(der.octetString(Buffer.alloc(127))).slice(0, 4), '047f');
    assert.equal(hex(der.octetString(Buffer.alloc(200))).slice(0, 6), '0481c8');
    assert.equal(hex(der.octetString(Buffer.alloc(300))).slice(0, 8), '0482012c');
  });

  test('named bit strings drop trailing zero bits', () => {
    assert.equal(hex(der.namedBits([0])), '03020780'); // digitalSignature
    assert.equal(hex(der.namedBits([5, 6])), '03020106'); // keyCertSign, cRLSign
  });

  test('UTCTime through 2049, GeneralizedTime from 2050', () => {
    assert.equal(der.time(new Date('2049-12-31T23:59:59.999Z')).toString('latin1'), '\x17\x0d491231235959Z');
    assert.equal(der.time(new Date('2050-01-01T00:00:00Z')).toString('latin1'), '\x18\x0f20500101000000Z');
  });
});
