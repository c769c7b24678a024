import { createHash } from 'node:crypto'
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import path from 'node:path'
import { ModuleLoadError } from './errors.js'
import type { ModuleFile, ModulePlan } from './protocol.js'

// Packages are read once per process: a plan is a snapshot of the files an allowlisted package
// needs, which the sandbox side compiles (with cached code) into every session's own isolate.
const plans = new Map<string, ModulePlan>()

/**
 * Resolves an allowlisted module from `node_modules` above `fromDir` into the files it needs:
 * ES modules with their static imports, or CommonJS files with their literal `require`s, and
 * the same for its pure-JS dependencies. Node built-ins and native addons are refused.
 *
 * @throws ModuleLoadError naming the module and what is wrong.
 */
export function resolveModulePlan(name: string, fromDir: string): ModulePlan {
  const cacheKey = `${fromDir}\0${name}`
  const cached = plans.get(cacheKey)
  if (cached !== undefined) return cached
  if (isBuiltin(name)) {
    throw new ModuleLoadError(
      name,
      `Module "${name}" is a Node built-in; only pure-JavaScript packages from node_modules can be allowlisted.`,
    )
  }
  const files: Record<string, ModuleFile> = {}
  const entry = resolveBare(name, fromDir, name)
  if (entry === undefined) {
    throw new ModuleLoadError(name, `Module "${name}" was not found in node_modules above ${fromDir}.`)
  }
  const queue = [entry]
  while (queue.length > 0) {
    const file = queue.pop()!
    if (Object.hasOwn(files, file.id)) continue
    const source = readFileSync(file.path, 'utf8')
    const format = formatOf(file.path)
    const resolutions: Record<string, string> = {}
    if (format !== 'json') {
      for (const specifier of findSpecifiers(source, format)) {
        const target = specifier.startsWith('.')
          ? resolveRelative(specifier, file.path, file.packageName, file.packageRoot)
          : isBuiltin(specifier)
            ? undefined
            : resolveBare(specifier, path.dirname(file.path), name)
        if (target === undefined) continue
        resolutions[specifier] = target.id
        queue.push(target)
      }
    }
    files[file.id] = {
      format,
      source,
      filename: file.id,
      resolutions,
      hash: createHash('sha256').update(format).update('\0').update(source).digest('hex'),
    }
  }
  const plan: ModulePlan = { name, entry: entry.id, files }
  plans.set(cacheKey, plan)
  return plan
}

interface ResolvedFile {
  /** A path that names the file without showing host directories: `/node_modules/pkg/lib/a.js`. */
  readonly id: string
  readonly path: string
  readonly packageName: string
  readonly packageRoot: string
}

function resolveBare(specifier: string, fromDir: string, allowlisted: string): ResolvedFile | undefined {
  const parts = specifier.split('/')
  const packageName = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
  const subpath = `.${specifier.slice(packageName.length)}`
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', packageName)
    if (existsSync(path.join(candidate, 'package.json'))) {
      const root = realpathSync(candidate)
      const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson
      if (manifest.gypfile === true || existsSync(path.join(root, 'binding.gyp'))) {
        throw new ModuleLoadError(
          allowlisted,
          `Module "${allowlisted}" needs "${packageName}", a native addon; only pure-JavaScript packages can run in the isolate.`,
        )
      }
      const target = packageEntry(manifest, subpath)
      if (target === undefined) return undefined
      const file = resolveFile(path.join(root, target))
      if (file === undefined) return undefined
      return toResolved(file, packageName, root, allowlisted)
    }
    if (path.dirname(dir) === dir) return undefined
  }
}

function resolveRelative(
  specifier: string,
  fromFile: string,
  packageName: string,
  packageRoot: string,
): ResolvedFile | undefined {
  const file = resolveFile(path.resolve(path.dirname(fromFile), specifier))
  if (file === undefined) return undefined
  return toResolved(file, packageName, packageRoot, packageName)
}

function toResolved(file: string, packageName: string, root: string, allowlisted: string): ResolvedFile {
  if (file.endsWith('.node')) {
    throw new ModuleLoadError(
      allowlisted,
      `Module "${allowlisted}" loads a native addon (${path.basename(file)}); only pure-JavaScript packages can run in the isolate.`,
    )
  }
  const inside = path.relative(root, file).split(path.sep).join('/')
  return { id: `/node_modules/${packageName}/${inside}`, path: file, packageName, packageRoot: root }
}

function resolveFile(base: string): string | undefined {
  for (const candidate of [base, `${base}.js`, `${base}.mjs`, `${base}.cjs`, `${base}.json`]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  for (const index of ['index.js', 'index.mjs', 'index.cjs', 'index.json']) {
    const candidate = path.join(base, index)
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

interface PackageJson {
  readonly main?: string
  readonly type?: string
  readonly exports?: unknown
  readonly gypfile?: boolean
}

// ES module conditions first: an isolate module graph is what the sandbox runs best.
const conditions = ['import', 'module', 'default', 'require']

function packageEntry(manifest: PackageJson, subpath: string): string | undefined {
  const { exports } = manifest
  if (exports === undefined || exports === null) {
    if (subpath !== '.') return subpath
    return manifest.main ?? 'index.js'
  }
  const isSubpathMap =
    typeof exports === 'object' &&
    !Array.isArray(exports) &&
    Object.keys(exports).some((key) => key.startsWith('.'))
  const target = isSubpathMap
    ? (exports as Record<string, unknown>)[subpath]
    : subpath === '.'
      ? exports
      : undefined
  return pickCondition(target)
}

function pickCondition(target: unknown): string | undefined {
  if (typeof target === 'string') return target
  if (Array.isArray(target)) {
    for (const item of target) {
      const picked = pickCondition(item)
      if (picked !== undefined) return picked
    }
    return undefined
  }
  if (typeof target !== 'object' || target === null) return undefined
  for (const condition of conditions) {
    if (Object.hasOwn(target, condition)) {
      const picked = pickCondition((target as Record<string, unknown>)[condition])
      if (picked !== undefined) return picked
    }
  }
  return undefined
}

function formatOf(file: string): ModuleFile['format'] {
  if (file.endsWith('.json')) return 'json'
  if (file.endsWith('.mjs')) return 'esm'
  if (file.endsWith('.cjs')) return 'cjs'
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json')
    if (existsSync(manifest)) {
      return (JSON.parse(readFileSync(manifest, 'utf8')) as PackageJson).type === 'module' ? 'esm' : 'cjs'
    }
    if (path.dirname(dir) === dir) return 'cjs'
  }
}

// A scan, not a parse: a specifier that only looks like an import (in a string or comment) resolves
// to nothing or to a file that is then never used. Imports the scan misses fail when they run.
const esmPatterns = [
  /\bimport\s*(?:[\w*{}\s,$]+?\s*from\s*)?["']([^"'\n]+)["']/g,
  /\bexport\s*(?:\*|\{[^}]*\})\s*(?:as\s+[\w$]+\s*)?from\s*["']([^"'\n]+)["']/g,
  /\bimport\s*\(\s*["']([^"'\n]+)["']\s*\)/g,
]
const cjsPatterns = [/\brequire\s*\(\s*["']([^"'\n]+)["']\s*\)/g]

function findSpecifiers(source: string, format: 'esm' | 'cjs'): Set<string> {
  const found = new Set<string>()
  for (const pattern of format === 'esm' ? esmPatterns : cjsPatterns) {
    for (const match of source.matchAll(pattern)) found.add(match[1]!)
  }
  return found
}
