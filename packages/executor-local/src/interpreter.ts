import { codeActionParseOptions, lineStarts, positionAt } from '@airlock/core'
import { parse } from 'acorn'
import {
  type CompiledModule,
  type CompiledProgram,
  UnsupportedError,
  compileModule,
  compileProgram,
} from './compiler/compiler.js'
import { Engine, type Location, type Source } from './compiler/engine.js'
import type { Analysis } from './compiler/scope-analysis.js'
import type { Value } from './realm.js'

/** A syntax error or a refused construct, with its offset in the source. */
export class CompileError extends Error {
  readonly offset: number
  readonly refused: boolean

  constructor(message: string, offset: number, refused: boolean) {
    super(message)
    this.offset = offset
    this.refused = refused
    this.name = refused ? 'UnsupportedError' : 'SyntaxError'
  }
}

export interface EvaluateOptions {
  /** `repl` for code actions; `script` for conformance tests (global code semantics). */
  readonly mode?: 'repl' | 'script'
  readonly strict?: boolean
  /** Top-level await allowed (code actions); scripts without it are parsed as plain scripts. */
  readonly topLevelAwait?: boolean
}

/**
 * The interpreter: one sandbox realm, programs compiled against it. Used by the executor's
 * sessions and by the test262 adapter.
 *
 * @example
 * const interpreter = new Interpreter()
 * interpreter.compile('[1, 2].map((x) => x * 2)').run() // a sandbox array [2, 4]
 */
export class Interpreter {
  readonly engine = new Engine()

  constructor() {
    this.#installCodeEvaluation()
  }

  /**
   * Replaces the realm's `eval` and `Function` (whose code generation is disabled anyway) by
   * versions that compile the code with this interpreter: dynamic code gets exactly the same
   * guarantees as the code action itself. Direct eval (access to local variables) is refused.
   */
  #installCodeEvaluation(): void {
    const engine = this.engine
    const { factories, global } = engine.realm
    const syntaxError = (error: unknown): unknown => {
      if (error instanceof CompileError) {
        return engine.error(error.refused ? 'SyntaxError' : 'SyntaxError', error.message)
      }
      return error
    }
    const evaluate = factories.method((_self: Value, args: Value[]) => {
      const code = args[0]
      if (typeof code !== 'string') return code
      let compiled
      try {
        compiled = this.compile(code, { mode: 'script', topLevelAwait: false })
      } catch (error) {
        throw syntaxError(error)
      }
      try {
        return compiled.run()
      } catch (error) {
        throw engine.toSandbox(error)
      }
    })
    engine.directEval = (code, strict) => {
      let compiled
      try {
        compiled = this.compile(code, { mode: 'script', topLevelAwait: false, strict })
      } catch (error) {
        throw syntaxError(error)
      }
      return compiled.run()
    }
    engine.setName(evaluate, 'eval')
    Object.defineProperty(evaluate, 'length', { value: 1, configurable: true })
    // Function, and the realm's hidden AsyncFunction, GeneratorFunction, AsyncGeneratorFunction.
    const makeConstructor = (keyword: string, name: string, prototype: Value): Value => {
      const constructor = factories.plain((_self: Value, args: Value[]) => {
        const list = Array.from(args, (arg) => String(arg))
        const body = list.length > 0 ? list.pop()! : ''
        const source = `(${keyword} anonymous(${list.join(',')}\n) {\n${body}\n})`
        let compiled
        try {
          // Parameters and body must each be valid on their own (no `) { ... } (` injection).
          parse(`(${keyword} (${list.join(',')}\n) {})`, {
            ...codeActionParseOptions,
            allowAwaitOutsideFunction: false,
          })
          parse(`(${keyword} () {\n${body}\n})`, {
            ...codeActionParseOptions,
            allowAwaitOutsideFunction: false,
          })
          compiled = this.compile(source, { mode: 'script', topLevelAwait: false })
        } catch (error) {
          if (error instanceof SyntaxError) throw engine.error('SyntaxError', error.message)
          throw syntaxError(error)
        }
        try {
          return compiled.run()
        } catch (error) {
          throw engine.toSandbox(error)
        }
      })
      engine.setName(constructor, name)
      Object.defineProperty(constructor, 'length', { value: 1, configurable: true })
      Object.defineProperty(constructor, 'prototype', { value: prototype, writable: false })
      Object.defineProperty(prototype, 'constructor', {
        value: constructor,
        writable: false,
        configurable: true,
        enumerable: false,
      })
      return constructor
    }
    const { intrinsics } = engine
    const functionConstructor = makeConstructor('function', 'Function', intrinsics.FunctionPrototype)
    Object.defineProperty(intrinsics.FunctionPrototype, 'constructor', { writable: true })
    for (const [keyword, name, prototype] of [
      ['async function', 'AsyncFunction', intrinsics.AsyncFunctionPrototype],
      ['function*', 'GeneratorFunction', intrinsics.GeneratorFunctionPrototype],
      ['async function*', 'AsyncGeneratorFunction', intrinsics.AsyncGeneratorFunctionPrototype],
    ] as const) {
      Object.setPrototypeOf(makeConstructor(keyword, name, prototype), functionConstructor)
    }
    Object.defineProperty(global, 'eval', {
      value: evaluate,
      writable: true,
      configurable: true,
      enumerable: false,
    })
    Object.defineProperty(global, 'Function', {
      value: functionConstructor,
      writable: true,
      configurable: true,
      enumerable: false,
    })
    ;(engine.intrinsics as Record<string, Value>).evalFunction = evaluate
  }

  /** Parses and compiles `text`; throws CompileError for syntax errors and refused constructs. */
  compile(text: string, options: EvaluateOptions = {}): CompiledProgram & { source: Source } {
    const program = parseCode(text, { topLevelAwait: options.topLevelAwait !== false })
    return this.compileParsed(program, { text }, options)
  }

  /** Compiles a program from `parseCode`; `analysis` may be a cached one of the same AST. */
  compileParsed(
    program: Value,
    source: Source,
    options: EvaluateOptions = {},
    analysis?: Analysis,
  ): CompiledProgram & { source: Source } {
    const compiled = refusals(() =>
      compileProgram(
        this.engine,
        program,
        source,
        {
          mode: options.mode ?? 'repl',
          ...(options.strict === undefined ? {} : { strict: options.strict }),
        },
        analysis,
      ),
    )
    return { ...compiled, source }
  }

  /** Compiles an ES module from `parseCode(text, { module: true })` and its strict analysis. */
  compileModule(program: Value, source: Source, analysis: Analysis): CompiledModule {
    return refusals(() => compileModule(this.engine, program, source, analysis))
  }

  /** Where a thrown sandbox value was raised, if known. */
  positionOf(thrown: Value): Location | undefined {
    if ((typeof thrown === 'object' && thrown !== null) || typeof thrown === 'function') {
      return this.engine.positions.get(thrown)
    }
    return this.engine.lastPrimitiveThrow
  }
}

/**
 * Parses code into acorn's AST; throws CompileError. The AST does not depend on any interpreter,
 * so one parse can be compiled by many (module files are parsed once per process).
 */
export function parseCode(text: string, options: { topLevelAwait?: boolean; module?: boolean } = {}): Value {
  try {
    return parse(text, {
      ...codeActionParseOptions,
      allowAwaitOutsideFunction: options.topLevelAwait !== false,
      ...(options.module === true ? { sourceType: 'module', allowImportExportEverywhere: false } : {}),
    })
  } catch (error) {
    if (error instanceof SyntaxError && typeof (error as Value).pos === 'number') {
      throw new CompileError(error.message.replace(/\s*\(\d+:\d+\)$/, ''), (error as Value).pos, false)
    }
    if (error instanceof RangeError) {
      throw new CompileError('The code is nested too deeply to parse; split it into smaller parts.', 0, false)
    }
    throw error
  }
}

/** Runs a compilation, turning refused constructs and too-deep nesting into CompileError. */
function refusals<T>(compile: () => T): T {
  try {
    return compile()
  } catch (error) {
    if (error instanceof UnsupportedError) throw new CompileError(error.message, error.offset, true)
    if (error instanceof RangeError) {
      throw new CompileError(
        'The code is nested too deeply to compile; split it into smaller parts.',
        0,
        false,
      )
    }
    throw error
  }
}

/** 1-based line and column of `offset` in `source`. */
export function lineColumn(source: Source, offset: number): { line: number; column: number } {
  return positionAt((source.lineStarts ??= lineStarts(source.text)), offset)
}
