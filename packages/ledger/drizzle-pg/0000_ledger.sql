CREATE TABLE "aegis"."ledger_entries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "aegis"."ledger_entries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"time" text NOT NULL,
	"ts" bigint NOT NULL,
	"request_id" text,
	"channel" text NOT NULL,
	"agent" text,
	"credential" text,
	"service" text,
	"target_host" text,
	"method" text,
	"path" text,
	"decision" text NOT NULL,
	"code" text,
	"status" integer,
	"duration_ms" bigint,
	"bytes_in" bigint,
	"bytes_out" bigint,
	"dry_run" text,
	"redactions" bigint,
	"inspection" text,
	"event" text,
	"detail" text
);
--> statement-breakpoint
CREATE INDEX "ledger_entries_ts_idx" ON "aegis"."ledger_entries" USING btree ("ts","id");--> statement-breakpoint
CREATE INDEX "ledger_entries_service_idx" ON "aegis"."ledger_entries" USING btree ("service");--> statement-breakpoint
CREATE INDEX "ledger_entries_agent_idx" ON "aegis"."ledger_entries" USING btree ("agent");