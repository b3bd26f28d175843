export * from './api-gateway.config';
export * from './api-gateway.module';
export * from './api-gateway.options';
export * from './docs/openapi-document';
export * from './http/gateway.exception';
export * from './http/http-error-mapping';
export * from './keys/api-key.service';
export * from './keys/api-scope';
