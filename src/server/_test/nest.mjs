// A NestJS app in plain JavaScript (Node's type stripping does not do decorators): the
// decorators are applied with Reflect's metadata calls, as TypeScript would compile them.
import 'reflect-metadata'
import { appendFileSync } from 'node:fs'
import { Controller, Get, Injectable, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'

class Shutdown {
  onModuleDestroy() {
    appendFileSync(process.env.FIXTURE_MARKER, `nest onModuleDestroy ${process.pid}\n`)
  }
  onApplicationShutdown(signal) {
    appendFileSync(process.env.FIXTURE_MARKER, `nest onApplicationShutdown ${signal} ${process.pid}\n`)
  }
}
Injectable()(Shutdown)

class Hello {
  hello() {
    return `nest pid ${process.pid}\n`
  }
}
Controller()(Hello)
const get = Get()
get(Hello.prototype, 'hello', Object.getOwnPropertyDescriptor(Hello.prototype, 'hello'))

class AppModule {}
Module({ controllers: [Hello], providers: [Shutdown] })(AppModule)

// FIXTURE_NEST_PLATFORM=fastify: the same app on @nestjs/platform-fastify.
const adapter =
  process.env.FIXTURE_NEST_PLATFORM === 'fastify'
    ? new (await import('@nestjs/platform-fastify')).FastifyAdapter()
    : undefined
const app = await NestFactory.create(AppModule, ...(adapter ? [adapter] : []), { logger: false })
export default app
