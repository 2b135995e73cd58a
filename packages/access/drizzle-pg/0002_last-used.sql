ALTER TABLE "aegis"."users" ADD COLUMN "last_used_at" bigint;
--> statement-breakpoint
-- A token's last use is bookkeeping, not a change for the other processes: the trigger no longer
-- fires for an UPDATE that sets last_used_at alone.
DROP TRIGGER IF EXISTS users_changed ON aegis.users;
--> statement-breakpoint
CREATE TRIGGER users_changed AFTER INSERT OR DELETE OR UPDATE OF name, role, token_id, token_hash, created_at, updated_at
  ON aegis.users FOR EACH STATEMENT EXECUTE FUNCTION aegis.bump_version('users');
