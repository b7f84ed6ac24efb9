ALTER TABLE "messages" ADD COLUMN IF NOT EXISTS "engine_event_id" text;--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "messages_dispatched_created_idx" ON "messages" USING btree ("created_at") WHERE "messages"."role" = 'user' and "messages"."dispatch" = 'dispatched' and "messages"."engine_event_id" is not null;
