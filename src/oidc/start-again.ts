/**
 * Where a person can start again at the application: the client's `initiate_login_uri`
 * (OIDC Registration: a URL that starts a sign-in at the relying party), else its home page
 * (`client_uri`). Shown on error pages and after sign-out when the client is known.
 */
export interface ClientLinks {
  initiateLoginUri?: string | undefined;
  clientUri?: string | undefined;
}

export function startAgainUrlOf(client: ClientLinks | undefined): string | undefined {
  const url = client?.initiateLoginUri ?? client?.clientUri;
  return typeof url === 'string' && /^https?:\/\//.test(url) ? url : undefined;
}

/** The catalogue entry (error.{name}) of an error oidc-provider renders for a browser. */
export function providerErrorPage(error: string | undefined, description?: string): string {
  // A post_logout_redirect_uri (or redirect_uri) not registered comes as invalid_request.
  if (error === 'invalid_request' && /redirect_uri/.test(description ?? '')) return 'badRedirect';
  switch (error) {
    case 'invalid_client':
      return 'unknownClient';
    case 'invalid_redirect_uri':
      return 'badRedirect';
    case 'access_denied':
      return 'accessDenied';
    case 'server_error':
      return 'internal';
    case 'temporarily_unavailable':
      return 'unavailable';
    default:
      return 'badRequest';
  }
}
