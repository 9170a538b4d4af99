/**
 * The storage benchmark's server, one process on PORT:
 *   `discard`: node:http reading and dropping request bodies (the memory anchor);
 *   `upload`: receiveUpload() streaming each multipart file into a local storage under MEDIA_ROOT;
 *   `serve`: the pipeline with the media middleware, serving MEDIA_ROOT's public and private
 *   storages (links signed with MEDIA_KEY). Access log off: only the media code is measured.
 * GET /ready answers 200 in the first two modes.
 */
import { createServer } from 'node:http'
import { createHttpServer, createPipeline } from '../../dist/http/index.js'
import { createLogger } from '../../dist/observe/index.js'
import { configureStorages, mediaFiles, receiveUpload, storage } from '../../dist/storage/index.js'

const port = Number(process.env.PORT)
const mode = process.argv[2]
configureStorages({ root: process.env.MEDIA_ROOT, signingKeys: [process.env.MEDIA_KEY as string] })

if (mode === 'discard' || mode === 'upload') {
  createServer((req, res) => {
    if (req.method !== 'POST') {
      res.end('ready')
      return
    }
    if (mode === 'discard') {
      req.resume()
      req.on('end', () => res.end('{}'))
      return
    }
    receiveUpload(req, storage('public'), { maxFileBytes: 1e9, maxTotalBytes: 1e9 }).then(
      (upload) => res.end(JSON.stringify(upload.files.map((file) => file.size))),
      (error: { status?: number }) => {
        res.statusCode = error.status ?? 500
        res.end(String(error))
      },
    )
  }).listen(port, '127.0.0.1')
} else {
  const pipeline = createPipeline(
    async (ctx) => {
      ctx.res.statusCode = 404
      ctx.res.end()
    },
    {
      timeoutMs: 30_000,
      trustedProxies: [],
      livezPath: '/livez',
      readyzPath: '/readyz',
      maxBodyBytes: 1024 * 1024,
      accessLog: false,
    },
    createLogger({ pretty: false }),
    [mediaFiles()],
  )
  createHttpServer(pipeline, {
    headersTimeoutMs: 60_000,
    requestTimeoutMs: 300_000,
    keepAliveTimeoutMs: 5000,
    maxHeaderBytes: 16 * 1024,
  }).listen(port, '127.0.0.1')
}
