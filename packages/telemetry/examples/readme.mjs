import { createGate } from '@aegis/proxy'
import { createTelemetry } from '@aegis/telemetry'

// One telemetry per gate: it counts the pipeline's outcomes and is served at /_aegis/metrics.
const telemetry = createTelemetry({ version: '1.0.0' })
const gate = createGate({
  credentials: { loadAll: () => [], changeToken: () => '1' }, // a vault in real use
  audit: { append: async () => 1, complete: () => {}, system: async () => 1 }, // a ledger in real use
  port: 0, // 127.0.0.1: loopback serves metrics without a token
  observer: telemetry,
  metrics: telemetry,
})
const { url } = await gate.listen()
try {
  await fetch(`${url}/github/user`) // no credential serves "github": blocked, service_not_found
  const scrape = await fetch(`${url}/_aegis/metrics`)
  const text = await scrape.text()
  const line =
    'aegis_requests_total{service="_unknown",method="GET",decision="blocked",code="service_not_found"} 1'
  if (scrape.headers.get('content-type') !== telemetry.contentType || !text.includes(line)) {
    throw new Error(`unexpected exposition:\n${text}`)
  }
} finally {
  await gate.close()
}
