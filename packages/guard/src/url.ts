/**
 * `postgres://aegis:***@db:5432/aegis` — a connection URL fit for a log line, an error or
 * `config show`: only the password is replaced (user, host, port and database stay, they are what
 * an operator needs to see). Text that is not a URL is not echoed back, since it may be a secret
 * pasted in the wrong place.
 */
export function redactUrlPassword(text: string, mask: (password: string) => string = () => '***'): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return '(unparseable URL)'
  }
  if (url.password === '') return url.toString()
  url.password = mask(decoded(url.password))
  return url.toString()
}

/** A stray `%` (`pa%ss`) is no escape: the mask gets the text as written rather than a throw. */
function decoded(password: string): string {
  try {
    return decodeURIComponent(password)
  } catch {
    return password
  }
}
