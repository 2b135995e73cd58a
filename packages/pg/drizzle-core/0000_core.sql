CREATE SCHEMA IF NOT EXISTS "aegis";
--> statement-breakpoint
-- One row per topic ('vault', 'agents', 'users', 'webhooks'): the version every gate compares
-- against what it loaded (the polling safety net) and the number a notification carries.
CREATE TABLE IF NOT EXISTS "aegis"."aegis_versions" (
	"topic" text PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL
);
--> statement-breakpoint
-- Statement trigger function: CREATE TRIGGER … FOR EACH STATEMENT EXECUTE FUNCTION
-- aegis.bump_version('<topic>'). It bumps the topic's version and notifies 'aegis_changes' with
-- {"topic","version"} only: the notification is delivered at COMMIT (never for a rollback) and a
-- listener reloads from the tables, so no row data ever travels in a payload.
CREATE OR REPLACE FUNCTION "aegis"."bump_version"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v bigint;
BEGIN
	INSERT INTO "aegis"."aegis_versions" AS a ("topic", "version") VALUES (TG_ARGV[0], 1)
		ON CONFLICT ("topic") DO UPDATE SET "version" = a."version" + 1
		RETURNING a."version" INTO v;
	PERFORM pg_notify('aegis_changes', json_build_object('topic', TG_ARGV[0], 'version', v::text)::text);
	RETURN NULL;
END
$$;
