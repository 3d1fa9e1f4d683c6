// CertMate's write-time guardrails on a hook's shell command, as CRD CEL rules: the API server
// rejects these shapes on `kubectl apply`, and the operator evaluates the same rules from the CRD.
// Like CertMate's list they stop accidents, not a determined author, so every pattern is narrow:
// it must never reject an ordinary deploy command.
//
// Patterns are RE2 (CEL's `matches`), written inside CEL raw strings r'...', so they may not
// contain a single quote: quote characters are spelled \x22 (") and \x27 (').
import type { ValidationRule } from './structural-schema.ts';

/** Characters after which the shell expects a new command. */
const SEPARATOR = String.raw`[\n;&|(){}!\x60]`;
/** Shell words after which the next word is a command. */
const COMMAND_KEYWORD = String.raw`(^|\s|${SEPARATOR})(then|do|else|elif|if|while|until|command|builtin|time)\s`;
/** Start of a word in command position, possibly indented. */
const COMMAND_POSITION = String.raw`(^|${SEPARATOR}|${COMMAND_KEYWORD})\s*`;
/** End of a shell word. */
const WORD_END = String.raw`(\s|[;&|)]|$)`;

function forbid(pattern: string, message: string): ValidationRule {
  if (pattern.includes("'")) throw new Error(`guardrail pattern must not contain a single quote: ${pattern}`);
  return { rule: `!self.matches(r'${pattern}')`, message };
}

export const COMMAND_GUARDRAILS: ValidationRule[] = [
  {
    rule: String.raw`self.matches(r'\S')`,
    message: 'command must not be blank: give the shell command to run',
  },
  // `eval` as a command, not as a substring (evaluate.sh, --eval, retrieval) or an argument (grep eval).
  forbid(
    String.raw`${COMMAND_POSITION}eval${WORD_END}`,
    'command must not use eval: run the program directly, or move the logic into a script in the image',
  ),
  // An rm whose operands include the root itself (/ or /*, optionally quoted); /tmp/x, ./dir/ and
  // "$DIR"/ are fine. Operands never cross a command separator.
  forbid(
    String.raw`(^|[\s;&|(){}!\x60/])rm\s+([^\s;&|]+\s+)*[\x22\x27]?/\*?[\x22\x27]?${WORD_END}`,
    'command must not remove the root directory (rm ... /): name the exact path to delete',
  ),
  // The classic fork bomb :(){ :|:& };: with any spacing.
  forbid(
    String.raw`:\s*\(\s*\)\s*\{\s*:\s*\|\s*:\s*&`,
    'command must not define a fork bomb (:(){ :|:& };:): remove it',
  ),
  // /etc/shadow and /etc/gshadow (and their backups such as /etc/shadow-), but not /etc/shadowsocks.
  forbid(
    String.raw`(^|[^\w.~/-])/etc/g?shadow\b`,
    'command must not read /etc/shadow or /etc/gshadow: a deploy hook has no use for password hashes; remove the reference',
  ),
];
