// String formats the apiserver checks for CRDs (kube-openapi strfmt). Formats not listed here are
// not checked, as the apiserver strips unsupported formats before validating.
import { isIP, isIPv4, isIPv6 } from 'node:net';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const HOSTNAME =
  /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const MAC = /^(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DURATION = /^[-+]?(?:\d+(?:\.\d+)?\s*(?:ns|us|µs|ms|s|m|h|d|w))+$/;
const HEX_COLOR = /^#?(?:[0-9a-fA-F]{3}){1,2}$/;

const CHECKS: Record<string, (value: string) => boolean> = {
  date: isDate,
  'date-time': isDateTime,
  datetime: isDateTime,
  uri: isUri,
  email: (v) => EMAIL.test(v),
  hostname: (v) => v.length <= 255 && HOSTNAME.test(v),
  ipv4: (v) => isIPv4(v),
  ipv6: (v) => isIPv6(v),
  cidr: isCidr,
  uuid: (v) => UUID.test(v),
  uuid3: (v) => UUID.test(v) && v.replaceAll('-', '')[12] === '3',
  uuid4: (v) => UUID.test(v) && v.replaceAll('-', '')[12] === '4',
  uuid5: (v) => UUID.test(v) && v.replaceAll('-', '')[12] === '5',
  mac: (v) => MAC.test(v),
  byte: (v) => BASE64.test(v),
  duration: (v) => DURATION.test(v),
  hexcolor: (v) => HEX_COLOR.test(v),
  password: () => true,
};

/** Whether `value` is valid for `format`; undefined when the format is not one the apiserver checks. */
export function checkFormat(format: string, value: string): boolean | undefined {
  return CHECKS[format]?.(value);
}

function isDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  return m !== null && isDate(m[1] ?? '') && Number(m[2]) < 24 && Number(m[3]) < 60 && Number(m[4]) < 61;
}

// Go's url.ParseRequestURI: an absolute URI, or an absolute path.
function isUri(value: string): boolean {
  if (value.startsWith('/')) return !/\s/.test(value);
  try {
    new URL(value);
    return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(value);
  } catch {
    return false;
  }
}

function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const version = isIP(address);
  return version !== 0 && Number(bits) <= (version === 4 ? 32 : 128);
}
