/**
 * Issue 5's storage benchmarks, in one run on loopback:
 *   upload memory: a 200 MB file posted as multipart to receiveUpload() into the local driver,
 *   against a node:http server that reads and drops the same body (the anchor); the figure is
 *   the server's peak RSS growth during the upload;
 *   signed serving: a 1 MB private file through its signed link, against the same file served
 *   publicly, both through the pipeline and the media middleware (wrk, keep-alive).
 * Rounds alternate the contenders so drift on a loaded machine hits both alike.
 * Usage: npm run bench -- storage [--rounds 3] [--upload-mb 200] [--seconds 5] [--connections 10]
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { configureStorages } from '../dist/storage/index.js'
import {
  ensureWrk,
  freePort,
  median,
  memoryMb,
  peakRssMb,
  printTable,
  start,
  stop,
  waitForOk,
  wrk,
} from './_lib.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'upload-mb': { type: 'string', default: '200' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
  },
  allowPositionals: true,
})
const rounds = Number(values.rounds)
const uploadBytes = Number(values['upload-mb']) * 1024 * 1024
const key = randomBytes(32).toString('base64url')

/** Posts one multipart file of `bytes` bytes, generated as it is sent (the client holds 64 KiB). */
function postUpload(port: number, bytes: number): Promise<number> {
  const boundary = 'shipshape-bench-boundary'
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const chunk = randomBytes(64 * 1024)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + bytes + tail.length,
        },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', reject)
    req.write(head)
    let sent = 0
    const pump = () => {
      while (sent < bytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent))
        sent += piece.length
        if (!req.write(piece)) {
          req.once('drain', pump)
          return
        }
      }
      req.end(tail)
    }
    pump()
  })
}

async function uploadRound(mode: 'discard' | 'upload', root: string) {
  const port = await freePort()
  const child = start(process.execPath, ['bench/apps/media.ts', mode], {
    PORT: String(port),
    MEDIA_ROOT: root,
    MEDIA_KEY: key,
  })
  try {
    await waitForOk(`http://127.0.0.1:${port}/ready`)
    // Warm up (loads busboy and file-type), then reset the peak so only the big upload counts.
    if ((await postUpload(port, 1024 * 1024)) !== 200) throw new Error(`${mode}: warm-up upload failed`)
    const pid = child.pid as number
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    const before = memoryMb(pid).rss
    const started = performance.now()
    const status = await postUpload(port, uploadBytes)
    const seconds = (performance.now() - started) / 1000
    if (status !== 200) throw new Error(`${mode}: upload answered ${status}`)
    return {
      growthMb: peakRssMb(pid) - before,
      mbPerSecond: uploadBytes / 1024 / 1024 / seconds,
    }
  } finally {
    await stop(child)
  }
}

const base = mkdtempSync(join(tmpdir(), 'shipshape-bench-media-'))
try {
  const upload = {
    discard: { growth: [] as number[], speed: [] as number[] },
    upload: { growth: [] as number[], speed: [] as number[] },
  }
  for (let round = 0; round < rounds; round++) {
    for (const mode of ['discard', 'upload'] as const) {
      const root = join(base, `upload-${round}-${mode}`)
      const result = await uploadRound(mode, root)
      rmSync(root, { recursive: true, force: true })
      upload[mode].growth.push(result.growthMb)
      upload[mode].speed.push(result.mbPerSecond)
    }
  }
  console.log(`Upload of ${values['upload-mb']} MB as multipart, ${rounds} rounds:\n`)
  printTable(
    (['discard', 'upload'] as const).map((mode) => ({
      contender:
        mode === 'discard' ? 'node:http, body read and dropped (anchor)' : 'receiveUpload() → local storage',
      'peak RSS growth MB (median)': median(upload[mode].growth).toFixed(1),
      'range MB': `${Math.min(...upload[mode].growth).toFixed(1)} – ${Math.max(...upload[mode].growth).toFixed(1)}`,
      'MB/s (median)': median(upload[mode].speed).toFixed(0),
    })),
  )
  const growth = median(upload.upload.growth)
  console.log(
    `\nreceiveUpload peak RSS growth: ${growth.toFixed(1)} MB (target < 50 MB): ${growth < 50 ? 'PASS' : 'FAIL'}\n`,
  )

  ensureWrk()
  const root = join(base, 'serve')
  const storages = configureStorages({ root, signingKeys: [key] })
  const file = randomBytes(1024 * 1024)
  const publicFile = await storages.get('public').put('bench/file.bin', file, { overwrite: true })
  const privateFile = await storages.get('private').put('bench/file.bin', file, { overwrite: true })
  const port = await freePort()
  const child = start(process.execPath, ['bench/apps/media.ts', 'serve'], {
    PORT: String(port),
    MEDIA_ROOT: root,
    MEDIA_KEY: key,
  })
  const urls = {
    public: `http://127.0.0.1:${port}${storages.get('public').url(publicFile.key)}`,
    signed: `http://127.0.0.1:${port}${await storages.get('private').signedUrl(privateFile.key, { expiresIn: 3600 })}`,
  }
  const serving = { public: [] as number[], signed: [] as number[] }
  try {
    await waitForOk(urls.public)
    await waitForOk(urls.signed)
    const options = { seconds: Number(values.seconds), connections: Number(values.connections), threads: 1 }
    for (const contender of ['public', 'signed'] as const)
      await wrk(urls[contender], { ...options, seconds: 2 })
    for (let round = 0; round < rounds; round++) {
      for (const contender of ['public', 'signed'] as const) {
        const load = await wrk(urls[contender], options)
        if (load.failures > 0) throw new Error(`${contender}: ${load.failures} failed requests`)
        serving[contender].push(load.rps)
      }
    }
  } finally {
    await stop(child)
  }
  console.log(
    `Serving a 1 MB file, ${rounds} rounds of ${values.seconds} s, ${values.connections} connections:\n`,
  )
  const anchor = median(serving.public)
  printTable(
    (['public', 'signed'] as const).map((contender) => ({
      contender: contender === 'public' ? 'public file, plain URL (anchor)' : 'private file, signed URL',
      'req/s (median)': Math.round(median(serving[contender])),
      'vs public': `${Math.round((median(serving[contender]) / anchor) * 100)}%`,
    })),
  )
  const ratio = median(serving.signed) / anchor
  console.log(
    `\nsigned / public throughput: ${Math.round(ratio * 100)}% (target ≥ 80%): ${ratio >= 0.8 ? 'PASS' : 'FAIL'}`,
  )
} finally {
  rmSync(base, { recursive: true, force: true })
}
