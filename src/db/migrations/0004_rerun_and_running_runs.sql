DROP INDEX IF EXISTS "runs_message_idx";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "runs_running_idx" ON "runs" USING btree ("started_at") WHERE "runs"."status" = 'running';--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "runs_message_idx" ON "runs" USING btree ("message_id");
