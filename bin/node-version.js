// The oldest Node.js certhook runs on (package.json "engines"); plain JavaScript, so that an older
// Node can run this check and say so instead of failing on syntax it does not know.
export const NODE_REQUIRED = [22, 19];

/** Why `version` (as process.version gives it) cannot run certhook, or undefined when it can. */
export function unsupportedNode(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  if (major > NODE_REQUIRED[0] || (major === NODE_REQUIRED[0] && minor >= NODE_REQUIRED[1])) return undefined;
  return `certhook needs Node.js ${NODE_REQUIRED.join('.')} or newer, and this is Node.js ${version}: install a newer Node.js (from a clone, \`npm ci\` brings Node 24: run \`npm run certhook -- ...\`)`;
}
