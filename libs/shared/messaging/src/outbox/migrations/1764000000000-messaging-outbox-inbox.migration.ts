import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `messaging.outbox`, `messaging.inbox` and the outbox wake-up trigger.
 *
 * The trigger is FOR EACH STATEMENT: one `pg_notify` per inserting statement, however many rows
 * it inserts, and PostgreSQL delivers identical notifications (same channel, same empty payload)
 * raised in one transaction only once, at commit. A high event rate therefore never means one
 * NOTIFY per row; the relay treats a notification as "look now", never as a count.
 */
export class MessagingOutboxInbox1764000000000 implements MigrationInterface {
  name = 'MessagingOutboxInbox1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "messaging"."outbox" (
        "position" BIGSERIAL NOT NULL,
        "event_id" uuid NOT NULL,
        "type" text NOT NULL,
        "subject" text NOT NULL,
        "payload" jsonb NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "published_at" TIMESTAMP WITH TIME ZONE,
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "last_error" text,
        "dead_lettered_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "pk_outbox" PRIMARY KEY ("position"),
        CONSTRAINT "uq_outbox_event_id" UNIQUE ("event_id")
      )`);
    // Claims scan only rows still to publish; both indexes stay as small as the backlog.
    await queryRunner.query(`
      CREATE INDEX "ix_outbox_unpublished" ON "messaging"."outbox" ("position")
      WHERE published_at IS NULL AND dead_lettered_at IS NULL`);
    await queryRunner.query(`
      CREATE INDEX "ix_outbox_unpublished_subject" ON "messaging"."outbox" ("subject", "position")
      WHERE published_at IS NULL AND dead_lettered_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE "messaging"."inbox" (
        "consumer" text NOT NULL,
        "event_id" uuid NOT NULL,
        "processed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_inbox" PRIMARY KEY ("consumer", "event_id")
      )`);
    await queryRunner.query(`
      CREATE FUNCTION "messaging"."outbox_notify"() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('stratavore_outbox', '');
        RETURN NULL;
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "outbox_notify" AFTER INSERT ON "messaging"."outbox"
      FOR EACH STATEMENT EXECUTE FUNCTION "messaging"."outbox_notify"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER "outbox_notify" ON "messaging"."outbox"`);
    await queryRunner.query(`DROP FUNCTION "messaging"."outbox_notify"()`);
    await queryRunner.query(`DROP TABLE "messaging"."inbox"`);
    await queryRunner.query(`DROP INDEX "messaging"."ix_outbox_unpublished_subject"`);
    await queryRunner.query(`DROP INDEX "messaging"."ix_outbox_unpublished"`);
    await queryRunner.query(`DROP TABLE "messaging"."outbox"`);
  }
}
