// Generated names and uids, as kube-apiserver makes them (the name rules: src/api/kube-names.ts).
import { randomInt, randomUUID } from 'node:crypto';

// The alphabet and length Kubernetes uses for generateName suffixes (no vowels, no look-alikes).
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SUFFIX_LENGTH = 5;
const MAX_GENERATE_PREFIX = 63 - SUFFIX_LENGTH;

export function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return prefix.slice(0, MAX_GENERATE_PREFIX) + suffix;
}

export const newUid = (): string => randomUUID();
