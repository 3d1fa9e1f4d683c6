// The sandbox runs containers as local processes, so a volume mounted at /etc/certs in the pod is
// a directory on the host. Paths the container was told about are rewritten to those directories.
//
// The rule: an occurrence of a mountPath is rewritten when it starts the string or follows a
// character that cannot be part of a path (space, quote, `=`, `:`, `(`, `;` ...), and ends the
// string, is followed by `/`, or by such a character. So `cat /etc/certs/tls.crt`, `"/etc/certs"`
// and `A=/etc/certs:/etc/ca` are rewritten; `/etc/certsx` and `/opt/etc/certs` are not. The
// longest mountPath wins where mounts nest. It applies once, to the final env values and to
// `command`/`args` after `$(VAR)` expansion, and to `workingDir`.

export interface Mount {
  mountPath: string;
  hostPath: string;
}

const PATH_CHAR = String.raw`[\w.~/-]`;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const normalise = (mountPath: string) => mountPath.replace(/\/+$/, '');

export function toHostPaths(text: string, mounts: readonly Mount[]): string {
  const byPath = new Map<string, string>();
  for (const m of mounts) {
    const path = normalise(m.mountPath);
    if (path) byPath.set(path, m.hostPath);
  }
  if (byPath.size === 0) return text;
  const alternatives = [...byPath.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const pattern = new RegExp(`(?<!${PATH_CHAR})(?:${alternatives.join('|')})(?![\\w.~-])`, 'g');
  return text.replace(pattern, (found) => byPath.get(found)!);
}
