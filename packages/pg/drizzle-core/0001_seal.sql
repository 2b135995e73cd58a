-- The deployment's sealed state, shared by every gate on this database: `aegis vault seal` sets it
-- and each running gate seals (forgets its key) when the notification arrives; an unseal that proved
-- the key clears it. One row at most (id 1); no row is "never sealed". Topic 'seal'.
CREATE TABLE IF NOT EXISTS "aegis"."aegis_seal" (
	"id" smallint PRIMARY KEY DEFAULT 1 CHECK ("id" = 1),
	"sealed" boolean NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"changed_by" text
);
--> statement-breakpoint
CREATE TRIGGER "aegis_seal_changed" AFTER INSERT OR UPDATE OR DELETE ON "aegis"."aegis_seal"
	FOR EACH STATEMENT EXECUTE FUNCTION "aegis"."bump_version"('seal');
