-- The schema itself is @aegis/pg CORE_MIGRATIONS' (applied first); kept idempotent here.
CREATE SCHEMA IF NOT EXISTS "aegis";
--> statement-breakpoint
CREATE TABLE "aegis"."agents" (
	"vault" text NOT NULL,
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"token_hash" "bytea" NOT NULL,
	"prefix" text NOT NULL,
	"rate_limit" text,
	"max_in_flight" integer,
	"created_at" text NOT NULL,
	"updated_at" text NOT NULL,
	"token_rotated_at" text,
	CONSTRAINT "agents_vault_id_unique" UNIQUE("vault","id"),
	CONSTRAINT "agents_token_hash_length" CHECK (octet_length("aegis"."agents"."token_hash") = 32),
	CONSTRAINT "agents_max_in_flight_positive" CHECK ("aegis"."agents"."max_in_flight" IS NULL OR "aegis"."agents"."max_in_flight" > 0)
);
--> statement-breakpoint
CREATE TABLE "aegis"."credentials" (
	"vault" text NOT NULL,
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"service" text NOT NULL,
	"secret" "bytea" NOT NULL,
	"domains" text NOT NULL,
	"auth_type" text NOT NULL,
	"header_name" text,
	"query_param" text,
	"scopes" text NOT NULL,
	"expires_at" text,
	"rate_limit" text,
	"body_inspection" text NOT NULL,
	"created_at" text NOT NULL,
	"updated_at" text NOT NULL,
	"rotated_at" text,
	CONSTRAINT "credentials_vault_id_unique" UNIQUE("vault","id")
);
--> statement-breakpoint
CREATE TABLE "aegis"."grants" (
	"vault" text NOT NULL,
	"agent_id" text NOT NULL,
	"credential_id" text NOT NULL,
	"created_at" text NOT NULL,
	CONSTRAINT "grants_agent_id_credential_id_pk" PRIMARY KEY("agent_id","credential_id")
);
--> statement-breakpoint
CREATE TABLE "aegis"."vaults" (
	"name" text PRIMARY KEY NOT NULL,
	"format_version" text NOT NULL,
	"kdf" text NOT NULL,
	"kdf_iterations" integer NOT NULL,
	"salt" "bytea" NOT NULL,
	"key_check" "bytea" NOT NULL,
	"created_at" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "aegis"."agents" ADD CONSTRAINT "agents_vault_vaults_name_fk" FOREIGN KEY ("vault") REFERENCES "aegis"."vaults"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aegis"."credentials" ADD CONSTRAINT "credentials_vault_vaults_name_fk" FOREIGN KEY ("vault") REFERENCES "aegis"."vaults"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aegis"."grants" ADD CONSTRAINT "grants_vault_agent_id_agents_vault_id_fk" FOREIGN KEY ("vault","agent_id") REFERENCES "aegis"."agents"("vault","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "aegis"."grants" ADD CONSTRAINT "grants_vault_credential_id_credentials_vault_id_fk" FOREIGN KEY ("vault","credential_id") REFERENCES "aegis"."credentials"("vault","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "agents_vault_name_unique" ON "aegis"."agents" USING btree ("vault","name");--> statement-breakpoint
CREATE UNIQUE INDEX "agents_vault_token_hash_unique" ON "aegis"."agents" USING btree ("vault","token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "credentials_vault_name_unique" ON "aegis"."credentials" USING btree ("vault","name");--> statement-breakpoint
CREATE UNIQUE INDEX "credentials_vault_service_unique" ON "aegis"."credentials" USING btree ("vault","service");--> statement-breakpoint
CREATE INDEX "grants_credential_id" ON "aegis"."grants" USING btree ("credential_id");