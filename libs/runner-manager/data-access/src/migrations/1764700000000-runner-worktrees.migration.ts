import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Git worktrees of runners (docs/worktrees.md):
 *
 * - `worktrees`: one per runner launched with `--worktree`, keyed by that runner's id (its
 *   branch is `stratavore/<runner_id>`): the host it is on, the repository it belongs to, its
 *   path, branch and base commit. It outlives the runner; `removed_at` is set when
 *   `worktrees.remove` took it away, and the row stays as history.
 * - `runners.worktree_*`: the worktree a runner works in (its own, or the one of the runner it
 *   restarts or resumes), kept on the row so that runner replies need no join; all four set or
 *   none. `ix_runners_worktree` finds the runners working in one.
 * - `queued_launches.new_worktree` / `worktree_id`: a queued launch gets a new worktree when
 *   admitted, or works in an existing one; never both.
 */
export class RunnerWorktrees1764700000000 implements MigrationInterface {
  name = 'RunnerWorktrees1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "runner"."worktrees" (
        "runner_id" uuid NOT NULL,
        "project_id" uuid NOT NULL,
        "host" text NOT NULL,
        "repository" text NOT NULL,
        "path" text NOT NULL,
        "branch" text NOT NULL,
        "base_commit" text NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "removed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "pk_worktrees" PRIMARY KEY ("runner_id"),
        CONSTRAINT "fk_worktrees_runner" FOREIGN KEY ("runner_id")
          REFERENCES "runner"."runners" ("id") ON DELETE CASCADE,
        CONSTRAINT "fk_worktrees_project" FOREIGN KEY ("project_id")
          REFERENCES "runner"."projects" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`
      CREATE INDEX "ix_worktrees_project" ON "runner"."worktrees" ("project_id", "created_at")`);
    await queryRunner.query(`
      ALTER TABLE "runner"."runners"
        ADD COLUMN "worktree_id" uuid,
        ADD COLUMN "worktree_path" text,
        ADD COLUMN "worktree_branch" text,
        ADD COLUMN "worktree_base_commit" text,
        ADD CONSTRAINT "fk_runners_worktree" FOREIGN KEY ("worktree_id")
          REFERENCES "runner"."worktrees" ("runner_id") ON DELETE SET NULL,
        ADD CONSTRAINT "ck_runners_worktree" CHECK (
          (worktree_id IS NULL AND worktree_path IS NULL AND worktree_branch IS NULL
            AND worktree_base_commit IS NULL)
          OR (worktree_id IS NOT NULL AND worktree_path IS NOT NULL
            AND worktree_branch IS NOT NULL AND worktree_base_commit IS NOT NULL))`);
    await queryRunner.query(`
      CREATE INDEX "ix_runners_worktree" ON "runner"."runners" ("worktree_id")
      WHERE worktree_id IS NOT NULL`);
    await queryRunner.query(`
      ALTER TABLE "runner"."queued_launches"
        ADD COLUMN "new_worktree" boolean NOT NULL DEFAULT false,
        ADD COLUMN "worktree_id" uuid,
        ADD CONSTRAINT "ck_queued_launches_worktree"
          CHECK (NOT (new_worktree AND worktree_id IS NOT NULL))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "runner"."queued_launches"
        DROP CONSTRAINT "ck_queued_launches_worktree",
        DROP COLUMN "worktree_id",
        DROP COLUMN "new_worktree"`);
    await queryRunner.query(`DROP INDEX "runner"."ix_runners_worktree"`);
    await queryRunner.query(`
      ALTER TABLE "runner"."runners"
        DROP CONSTRAINT "ck_runners_worktree",
        DROP CONSTRAINT "fk_runners_worktree",
        DROP COLUMN "worktree_base_commit",
        DROP COLUMN "worktree_branch",
        DROP COLUMN "worktree_path",
        DROP COLUMN "worktree_id"`);
    await queryRunner.query(`DROP INDEX "runner"."ix_worktrees_project"`);
    await queryRunner.query(`DROP TABLE "runner"."worktrees"`);
  }
}
