-- Every gate and CLI hears of a user change (aegis.bump_version comes from @aegis/pg's core migrations).
CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON aegis.users
  FOR EACH STATEMENT EXECUTE FUNCTION aegis.bump_version('users');
