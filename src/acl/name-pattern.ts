/**
 * A compiled resource-name or username pattern. Both ACL styles land here: Kafka-native
 * LITERAL / PREFIXED names and Aiven-style globs. Compiling happens once, at load; matching a
 * request is then a Map lookup, a `startsWith` or a precompiled RegExp — never a new RegExp.
 */
export type NamePattern =
  | { readonly kind: 'exact'; readonly name: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'regexp'; readonly regexp: RegExp; readonly source: string };

const ANY: NamePattern = Object.freeze({ kind: 'any' });

/** Characters with a meaning in a RegExp; escaped when a glob is compiled. */
const REGEXP_SYNTAX = /^[\\^$.|+()[\]{}/]$/;

/** Kafka LITERAL: the name itself, except that `*` means every name. */
export function literalPattern(name: string): NamePattern {
  return name === '*' ? ANY : { kind: 'exact', name };
}

/** Kafka PREFIXED: every name that starts with `prefix` (a `*` in it is an ordinary character). */
export function prefixPattern(prefix: string): NamePattern {
  return { kind: 'prefix', prefix };
}

/** True when the text holds an Aiven wildcard (`*` or `?`). */
export function isGlob(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

/**
 * Aiven glob: `*` is any run of characters (empty too, `.` included), `?` is exactly one
 * character, everything else is literal and the whole name must match. The common shapes get
 * fast paths: no wildcard is an exact name, a lone `*` is every name, one trailing `*` is a
 * prefix.
 */
export function compileGlob(glob: string): NamePattern {
  if (!isGlob(glob)) return { kind: 'exact', name: glob };
  if (glob === '*') return ANY;
  const body = glob.slice(0, -1);
  if (glob.endsWith('*') && !isGlob(body)) return { kind: 'prefix', prefix: body };
  let source = '^';
  for (const char of glob) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += REGEXP_SYNTAX.test(char) ? `\\${char}` : char;
  }
  source += '$';
  // `s` so `*` and `?` also cross line breaks; `u` so `?` is one code point, not half of one.
  return { kind: 'regexp', regexp: new RegExp(source, 'su'), source: glob };
}

/** Whether `name` falls under the pattern. */
export function matchesName(pattern: NamePattern, name: string): boolean {
  switch (pattern.kind) {
    case 'exact':
      return pattern.name === name;
    case 'any':
      return true;
    case 'prefix':
      return name.startsWith(pattern.prefix);
    case 'regexp':
      return pattern.regexp.test(name);
  }
}
