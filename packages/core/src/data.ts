import { types } from 'node:util'
import { DataBoundaryError } from './errors.js'
import { createSandboxRuntime } from './sandbox-runtime.js'

/**
 * What crosses between sandbox and host, in both directions: JSON values plus `undefined`,
 * non-finite numbers, `bigint`, `Date`, `Uint8Array`, `Map` and `Set`. Errors cross as plain
 * `{ name, message }` objects. Nothing that can run code (functions, getters, proxies, thenables)
 * ever crosses, so the receiving side never executes the other side's code.
 */
export type Data =
  | null
  | undefined
  | boolean
  | number
  | string
  | bigint
  | Date
  | Uint8Array
  | readonly Data[]
  | ReadonlyMap<Data, Data>
  | ReadonlySet<Data>
  | { readonly [key: string]: Data }

export interface ToDataOptions {
  /** Refuse values whose estimated size exceeds this many bytes. */
  readonly maxBytes?: number
  /** Refuse values nested deeper than this. */
  readonly maxDepth?: number
  /**
   * Prototypes that mark a plain object, besides the host's `Object.prototype` and `null`:
   * an in-process sandbox passes its realm's `Object.prototype` here.
   */
  readonly plainObjectPrototypes?: readonly object[]
  /** How the value is named in error paths: `result`, `args`, ... */
  readonly rootName?: string
}

// The host's own instance of the sandbox runtime: what crosses into the host is copied with the
// very rules (and code) sandboxes copy out with. It captured its built-ins when this module loaded,
// so nothing replaced later runs during a copy; Node's checks tell proxies and the rest apart.
const { copyOut } = createSandboxRuntime(types)

/**
 * Copies `value` into host-owned `Data`, refusing anything that is not data. Reads own data
 * properties through descriptors only, so no getter, proxy trap or overridden method runs.
 *
 * @throws DataBoundaryError naming the path of the offending part and what to do instead.
 */
export function toData(value: unknown, options: ToDataOptions = {}): Data {
  const copied = copyOut(value, options)
  if (!copied.ok) throw new DataBoundaryError(copied.path, copied.problem)
  return copied.value as Data
}
