import { useCallback, useEffect, useRef, useState } from 'react'
import { type ApiError, toApiError } from '../api/client.js'

export interface Resource<T> {
  data: T | null
  error: ApiError | null
  loading: boolean
  reload: () => void
}

/**
 * Loads `load()` when `key` changes (and every `refreshMs` if given). An answer to an older key is
 * dropped; a failed refresh keeps the last data and shows the error beside it.
 */
export function useResource<T>(load: () => Promise<T>, key: string, refreshMs?: number): Resource<T> {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const [loading, setLoading] = useState(true)
  const [tick, setTick] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load

  // biome-ignore lint/correctness/useExhaustiveDependencies: key and tick are the triggers; load is read through a ref
  useEffect(() => {
    let live = true
    setLoading(true)
    loadRef.current().then(
      (value) => {
        if (!live) return
        setData(value)
        setError(null)
        setLoading(false)
      },
      (err: unknown) => {
        if (!live) return
        setError(toApiError(err))
        setLoading(false)
      },
    )
    return () => {
      live = false
    }
  }, [key, tick])

  useEffect(() => {
    if (!refreshMs) return
    const timer = setInterval(() => setTick((t) => t + 1), refreshMs)
    return () => clearInterval(timer)
  }, [refreshMs])

  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { data, error, loading, reload }
}
