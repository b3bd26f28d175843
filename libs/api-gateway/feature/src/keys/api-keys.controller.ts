import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { API_KEY_SCOPES } from '@stratavore/api-gateway-data-access';
import { z } from 'zod';

import { GatewayRoutes } from '../api/gateway-routes.decorator';
import { bodyObject } from '../api/request-input';
import { parseAtEdge } from '../http/edge-validation';
import { ApiKeyService, type ApiKeyView, type CreatedApiKey } from './api-key.service';
import { RequiredScope } from './api-scope';

export const createApiKeyRequestSchema = z.strictObject({
  name: z
    .string({ error: 'expected a name' })
    .trim()
    .min(1, { error: 'expected a name' })
    .max(200, { error: 'expected at most 200 characters' }),
  scope: z.enum(API_KEY_SCOPES, { error: `expected one of ${API_KEY_SCOPES.join(', ')}` }),
});

export const apiKeyIdSchema = z.strictObject({
  id: z.uuid({ error: 'expected an API key id (uuid)' }),
});

@GatewayRoutes()
@Controller('api/v1/keys')
export class ApiKeysController {
  constructor(@Inject(ApiKeyService) private readonly keys: ApiKeyService) {}

  /** The plaintext `key` is in this answer only. */
  @Post()
  @HttpCode(201)
  @RequiredScope('admin')
  create(@Body() body: unknown): Promise<CreatedApiKey> {
    return this.keys.create(parseAtEdge(createApiKeyRequestSchema, bodyObject(body)));
  }

  @Get()
  @RequiredScope('admin')
  async list(): Promise<{ keys: ApiKeyView[] }> {
    return { keys: await this.keys.list() };
  }

  @Delete(':id')
  @HttpCode(200)
  @RequiredScope('admin')
  async revoke(@Param('id') id: string): Promise<{ apiKey: ApiKeyView }> {
    const { id: keyId } = parseAtEdge(apiKeyIdSchema, { id }, 'path');
    return { apiKey: await this.keys.revoke(keyId) };
  }
}
