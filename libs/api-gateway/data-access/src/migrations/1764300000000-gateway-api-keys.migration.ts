import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `gateway.api_keys`: hashed API keys. The prefix is unique across all keys, revoked ones
 * included, so a prefix always names one row and lookups by prefix need no scope filter.
 */
export class GatewayApiKeys1764300000000 implements MigrationInterface {
  name = 'GatewayApiKeys1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "gateway"."api_keys" (
        "id" uuid NOT NULL,
        "name" text NOT NULL,
        "prefix" text NOT NULL,
        "secret_hash" text NOT NULL,
        "scope" text NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "last_used_at" TIMESTAMP WITH TIME ZONE,
        "revoked_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "pk_api_keys" PRIMARY KEY ("id"),
        CONSTRAINT "uq_api_keys_prefix" UNIQUE ("prefix"),
        CONSTRAINT "ck_api_keys_scope" CHECK ("scope" IN ('admin', 'operator', 'viewer')),
        CONSTRAINT "ck_api_keys_secret_hash" CHECK ("secret_hash" ~ '^[0-9a-f]{64}$'),
        CONSTRAINT "ck_api_keys_name" CHECK (length("name") BETWEEN 1 AND 200)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "gateway"."api_keys"`);
  }
}
