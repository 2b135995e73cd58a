/** One step of a vector: a reservation with its expected answer, or the refund of an earlier one. */
export type VectorStep =
  | { at: number; key: string; rate: string; expect: 'ok' | { retryAfterMs: number } }
  | { refund: number }

export interface GcraVector {
  name: string
  steps: VectorStep[]
  repeat?: { times: number; step: VectorStep }
}

/**
 * GCRA test vectors every rate-limit store must pass: the in-process `RateLimiter` (rate.test.ts)
 * and the Redis scripts (`@aegis/redis-rate-limit`). Each case starts empty at time 0; `at` is ms
 * since then. A step reserves one unit of `rate` for `key` and expects `ok` or a refusal with
 * `retryAfterMs`; a step with `refund` gives back the reservation made by the step of that index.
 */
export const gcraVectors: { cases: GcraVector[] } = {
  cases: [
    {
      name: 'a burst of `count` passes at once, the next waits one emission interval',
      steps: [
        {
          at: 0,
          key: 'a',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 0,
          key: 'a',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 0,
          key: 'a',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 0,
          key: 'a',
          rate: '3/sec',
          expect: {
            retryAfterMs: 334,
          },
        },
        {
          at: 333,
          key: 'a',
          rate: '3/sec',
          expect: {
            retryAfterMs: 1,
          },
        },
        {
          at: 334,
          key: 'a',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 334,
          key: 'a',
          rate: '3/sec',
          expect: {
            retryAfterMs: 333,
          },
        },
      ],
    },
    {
      name: 'after the burst, one per interval: 5/min allows exactly 5 then one every 12 s',
      steps: [
        {
          at: 0,
          key: 'agent:1',
          rate: '5/min',
          expect: 'ok',
        },
        {
          at: 10,
          key: 'agent:1',
          rate: '5/min',
          expect: 'ok',
        },
        {
          at: 20,
          key: 'agent:1',
          rate: '5/min',
          expect: 'ok',
        },
        {
          at: 30,
          key: 'agent:1',
          rate: '5/min',
          expect: 'ok',
        },
        {
          at: 40,
          key: 'agent:1',
          rate: '5/min',
          expect: 'ok',
        },
        {
          at: 50,
          key: 'agent:1',
          rate: '5/min',
          expect: {
            retryAfterMs: 11950,
          },
        },
        {
          at: 11999,
          key: 'agent:1',
          rate: '5/min',
          expect: {
            retryAfterMs: 1,
          },
        },
        {
          at: 12000,
          key: 'agent:1',
          rate: '5/min',
          expect: 'ok',
        },
        {
          at: 12001,
          key: 'agent:1',
          rate: '5/min',
          expect: {
            retryAfterMs: 11999,
          },
        },
        {
          at: 24000,
          key: 'agent:1',
          rate: '5/min',
          expect: 'ok',
        },
      ],
    },
    {
      name: 'keys are independent',
      steps: [
        {
          at: 0,
          key: 'x',
          rate: '1/min',
          expect: 'ok',
        },
        {
          at: 0,
          key: 'x',
          rate: '1/min',
          expect: {
            retryAfterMs: 60000,
          },
        },
        {
          at: 0,
          key: 'y',
          rate: '1/min',
          expect: 'ok',
        },
        {
          at: 59999,
          key: 'y',
          rate: '1/min',
          expect: {
            retryAfterMs: 1,
          },
        },
        {
          at: 60000,
          key: 'x',
          rate: '1/min',
          expect: 'ok',
        },
      ],
    },
    {
      name: 'an idle key starts over with a full burst',
      steps: [
        {
          at: 0,
          key: 'k',
          rate: '2/sec',
          expect: 'ok',
        },
        {
          at: 0,
          key: 'k',
          rate: '2/sec',
          expect: 'ok',
        },
        {
          at: 0,
          key: 'k',
          rate: '2/sec',
          expect: {
            retryAfterMs: 500,
          },
        },
        {
          at: 5000,
          key: 'k',
          rate: '2/sec',
          expect: 'ok',
        },
        {
          at: 5000,
          key: 'k',
          rate: '2/sec',
          expect: 'ok',
        },
        {
          at: 5000,
          key: 'k',
          rate: '2/sec',
          expect: {
            retryAfterMs: 500,
          },
        },
      ],
    },
    {
      name: 'a refund gives back exactly one unit, once',
      steps: [
        {
          at: 0,
          key: 'r',
          rate: '2/min',
          expect: 'ok',
        },
        {
          at: 0,
          key: 'r',
          rate: '2/min',
          expect: 'ok',
        },
        {
          at: 0,
          key: 'r',
          rate: '2/min',
          expect: {
            retryAfterMs: 30000,
          },
        },
        {
          refund: 1,
        },
        {
          refund: 1,
        },
        {
          at: 1,
          key: 'r',
          rate: '2/min',
          expect: 'ok',
        },
        {
          at: 1,
          key: 'r',
          rate: '2/min',
          expect: {
            retryAfterMs: 29999,
          },
        },
      ],
    },
    {
      name: 'a refund after the key fell idle and started over gives nothing back',
      steps: [
        {
          at: 0,
          key: 's',
          rate: '1/sec',
          expect: 'ok',
        },
        {
          at: 2000,
          key: 's',
          rate: '1/sec',
          expect: 'ok',
        },
        {
          refund: 0,
        },
        {
          at: 2000,
          key: 's',
          rate: '1/sec',
          expect: {
            retryAfterMs: 1000,
          },
        },
      ],
    },
    {
      name: 'a refusal spends nothing',
      steps: [
        {
          at: 0,
          key: 'n',
          rate: '1/sec',
          expect: 'ok',
        },
        {
          at: 100,
          key: 'n',
          rate: '1/sec',
          expect: {
            retryAfterMs: 900,
          },
        },
        {
          at: 200,
          key: 'n',
          rate: '1/sec',
          expect: {
            retryAfterMs: 800,
          },
        },
        {
          at: 300,
          key: 'n',
          rate: '1/sec',
          expect: {
            retryAfterMs: 700,
          },
        },
        {
          at: 1000,
          key: 'n',
          rate: '1/sec',
          expect: 'ok',
        },
      ],
    },
    {
      name: 'fractional intervals accumulate exactly: 3/sec over 2 s allows 3 + 6',
      steps: [
        {
          at: 0,
          key: 'f',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 0,
          key: 'f',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 0,
          key: 'f',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 334,
          key: 'f',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 667,
          key: 'f',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 1000,
          key: 'f',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 1000,
          key: 'f',
          rate: '3/sec',
          expect: {
            retryAfterMs: 334,
          },
        },
        {
          at: 1334,
          key: 'f',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 1667,
          key: 'f',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 2000,
          key: 'f',
          rate: '3/sec',
          expect: 'ok',
        },
        {
          at: 2000,
          key: 'f',
          rate: '3/sec',
          expect: {
            retryAfterMs: 334,
          },
        },
      ],
    },
    {
      name: 'large rates: 1000000000/day passes a burst of 1000',
      repeat: {
        times: 1000,
        step: {
          at: 0,
          key: 'big',
          rate: '1000000000/day',
          expect: 'ok',
        },
      },
      steps: [],
    },
  ],
}

/** The steps of a vector, `repeat` unrolled. */
export function expandSteps(vector: GcraVector): VectorStep[] {
  const repeat = vector.repeat
  return repeat ? [...vector.steps, ...Array.from({ length: repeat.times }, () => repeat.step)] : vector.steps
}
