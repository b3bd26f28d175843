import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { type INestApplication, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { type AbstractHttpAdapter, HttpAdapterHost } from '@nestjs/core';
import { SwaggerModule } from '@nestjs/swagger';

import { buildGatewayOpenApiDocument } from './openapi-document';

/** The Swagger UI files the page loads, with their content types. */
const SWAGGER_UI_ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-16x16.png': 'image/png',
  'favicon-32x32.png': 'image/png',
};

interface AssetReply {
  type(contentType: string): AssetReply;
  header(name: string, value: string): AssetReply;
  send(payload: Buffer): unknown;
}

/**
 * Serves the OpenAPI document at `/docs-json` and Swagger UI at `/docs`.
 *
 * `SwaggerModule.setup` takes the application, which a module never sees; what it uses of it is
 * the HTTP adapter (routes) and `useStaticAssets` (the UI files). The files are served here as
 * a fixed list of routes instead of through `@fastify/static`, whose ESM-only dependencies do not
 * load in the CommonJS test runtime, and which would expose the whole directory.
 */
@Injectable()
export class DocsPublisher implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter as AbstractHttpAdapter | undefined;
    // No HTTP server (a standalone application context): nothing to serve.
    if (!adapter) return;
    const appFacade = {
      getHttpAdapter: () => adapter,
      useStaticAssets: (options: { root: string; prefix: string }) =>
        this.serveAssets(adapter, options.root, options.prefix),
    } as unknown as INestApplication;
    SwaggerModule.setup('docs', appFacade, () => buildGatewayOpenApiDocument(), {
      jsonDocumentUrl: 'docs-json',
      yamlDocumentUrl: 'docs-yaml',
      customSiteTitle: 'Stratavore API',
    });
  }

  private serveAssets(adapter: AbstractHttpAdapter, root: string, prefix: string): void {
    for (const [file, contentType] of Object.entries(SWAGGER_UI_ASSETS)) {
      let content: Promise<Buffer> | undefined;
      adapter.get(`${prefix}/${file}`, async (_request: unknown, reply: AssetReply) => {
        content ??= readFile(join(root, file));
        return reply
          .type(contentType)
          .header('cache-control', 'public, max-age=3600')
          .send(await content);
      });
    }
  }
}
