-- Every gate hears of an endpoint change (aegis.bump_version comes from @aegis/pg's core migrations).
-- Events and deliveries change with every blocked request: no trigger there, relays poll the queue.
CREATE TRIGGER webhook_endpoints_changed AFTER INSERT OR UPDATE OR DELETE ON aegis.webhook_endpoints
  FOR EACH STATEMENT EXECUTE FUNCTION aegis.bump_version('webhooks');
