/** Matches a plain JavaScript identifier (ASCII), the names that print without quotes. */
export const identifierPattern = /^[A-Za-z_$][\w$]*$/

/** Extends a value path for messages: `args` + `city` → `args.city`, + 2 → `args[2]`, + `a b` → `args["a b"]`. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  return identifierPattern.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}
