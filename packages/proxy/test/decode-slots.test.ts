import { describe, expect, it } from 'vitest'
import { DecodeSlots } from '../src/stages/decode-slots.js'

const tick = () => new Promise((r) => setImmediate(r))

describe('DecodeSlots (the concurrent-decode cap of the inspection stage)', () => {
  it('lets `max` in at once, queues up to `queueMax`, and says no past that', async () => {
    const slots = new DecodeSlots(2, 3)
    let holding = 0
    let most = 0
    const finished: number[] = []
    const releases: Array<() => void> = []
    const waits = Array.from({ length: 5 }, (_, i) => {
      const waiting = slots.acquire()
      expect(waiting, `request ${i}`).not.toBeNull()
      return (waiting as Promise<() => void>).then((release) => {
        holding++
        most = Math.max(most, holding)
        releases.push(() => {
          holding--
          finished.push(i)
          release()
        })
      })
    })
    expect(slots.acquire()).toBeNull() // 2 holding + 3 waiting: the sixth is refused
    await tick()
    expect(holding).toBe(2)
    while (finished.length < 5) {
      releases.shift()?.()
      await tick()
    }
    await Promise.all(waits)
    expect(most).toBe(2)
    expect(finished).toEqual([0, 1, 2, 3, 4]) // first come, first served
    // All free again: two at once without waiting.
    expect(slots.acquire()).not.toBeNull()
    expect(slots.acquire()).not.toBeNull()
  })

  it('gives a slot back once, however often release is called', async () => {
    const slots = new DecodeSlots(1, 0)
    const release = await (slots.acquire() as Promise<() => void>)
    release()
    release()
    const again = await (slots.acquire() as Promise<() => void>)
    expect(slots.acquire()).toBeNull() // one slot, not two
    again()
  })
})
