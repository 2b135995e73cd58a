ALTER TABLE "aegis"."agents" ADD COLUMN "seal" "bytea";--> statement-breakpoint
ALTER TABLE "aegis"."grants" ADD COLUMN "seal" "bytea";