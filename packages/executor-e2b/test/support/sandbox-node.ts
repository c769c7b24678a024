import { execFileSync } from 'node:child_process'

/**
 * The environment that makes the fake's sandbox processes run Node 20, the version E2B's
 * `code-interpreter-v1` template ships, when this machine has one at /usr/bin/node; otherwise the
 * fake runs the harness on the Node that runs the tests. Other test files use the latter, so
 * both code paths of the harness (with and without `vm.constants.DONT_CONTEXTIFY`) are covered.
 */
export function templateNode(): {
  readonly version: string
  readonly env?: Readonly<Record<string, string>>
} {
  try {
    const version = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim()
    if (version.startsWith('v20.')) return { version, env: { PATH: '/usr/bin:/bin' } }
  } catch {
    // No system node: use the test runner's.
  }
  return { version: process.version }
}
