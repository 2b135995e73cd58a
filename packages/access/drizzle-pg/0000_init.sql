CREATE SCHEMA IF NOT EXISTS "aegis";
--> statement-breakpoint
CREATE TABLE "aegis"."access_meta" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "aegis"."users" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "aegis"."users_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"role" text NOT NULL,
	"token_id" text NOT NULL,
	"token_hash" "bytea" NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "users_role" CHECK ("aegis"."users"."role" IN ('admin', 'operator', 'viewer'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "users_name" ON "aegis"."users" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "users_token_hash" ON "aegis"."users" USING btree ("token_hash");