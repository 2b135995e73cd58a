-- Change propagation (see @aegis/pg ChangeFeed): every statement that changes a vault table bumps
-- its topic's version and notifies at COMMIT. Topic 'vault': vaults and credentials; 'agents':
-- agents and grants. The function aegis.bump_version() comes from the core migrations.
CREATE TRIGGER "vaults_changed" AFTER INSERT OR UPDATE OR DELETE ON "aegis"."vaults"
	FOR EACH STATEMENT EXECUTE FUNCTION "aegis"."bump_version"('vault');
--> statement-breakpoint
CREATE TRIGGER "credentials_changed" AFTER INSERT OR UPDATE OR DELETE ON "aegis"."credentials"
	FOR EACH STATEMENT EXECUTE FUNCTION "aegis"."bump_version"('vault');
--> statement-breakpoint
CREATE TRIGGER "agents_changed" AFTER INSERT OR UPDATE OR DELETE ON "aegis"."agents"
	FOR EACH STATEMENT EXECUTE FUNCTION "aegis"."bump_version"('agents');
--> statement-breakpoint
CREATE TRIGGER "grants_changed" AFTER INSERT OR UPDATE OR DELETE ON "aegis"."grants"
	FOR EACH STATEMENT EXECUTE FUNCTION "aegis"."bump_version"('agents');
