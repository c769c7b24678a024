import { describe, expect, it } from 'vitest'
import { StopSequenceCutter } from './stop-sequences.js'

function run(stops: readonly string[], pieces: readonly string[]): { out: string[]; stopped: boolean } {
  const cutter = new StopSequenceCutter(stops)
  const out = pieces.map((piece) => cutter.push(piece))
  out.push(cutter.flush())
  return { out, stopped: cutter.stopped }
}

describe('StopSequenceCutter', () => {
  it('passes text through when there are no stop sequences', () => {
    expect(run([], ['a', 'b'])).toEqual({ out: ['a', 'b', ''], stopped: false })
    expect(run([''], ['a'])).toEqual({ out: ['a', ''], stopped: false })
  })

  it('cuts before the earliest stop sequence and drops everything after', () => {
    expect(run(['STOP', 'X'], ['abXcdSTOP', 'more'])).toEqual({ out: ['ab', '', ''], stopped: true })
  })

  it('holds back a possible start of a stop sequence until the next piece decides', () => {
    expect(run(['<end_code>'], ['code\n<en', 'd_', 'code> junk'])).toEqual({
      out: ['code\n', '', '', ''],
      stopped: true,
    })
    expect(run(['<end_code>'], ['a <en', 'd of it'])).toEqual({
      out: ['a ', '<end of it', ''],
      stopped: false,
    })
  })

  it('releases held-back text at the end when no stop sequence completed', () => {
    expect(run(['\nObservation:'], ['done\nObs'])).toEqual({ out: ['done', '\nObs'], stopped: false })
  })

  it('holds back the longest candidate across several stop sequences', () => {
    const cutter = new StopSequenceCutter(['abc', 'bcd'])
    expect(cutter.push('xab')).toBe('x')
    expect(cutter.push('cz')).toBe('')
    expect(cutter.stopped).toBe(true)
  })

  it('finds a stop sequence that starts in held-back text and ends in a later piece', () => {
    const cutter = new StopSequenceCutter(['abcd'])
    expect(cutter.push('xa')).toBe('x')
    expect(cutter.push('b')).toBe('')
    expect(cutter.push('c')).toBe('')
    expect(cutter.push('dtail')).toBe('')
    expect(cutter.stopped).toBe(true)
  })
})
