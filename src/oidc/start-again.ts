/**
 * Where a person can start again at the application: the client's `initiate_login_uri`
 * (OIDC Registration: a URL that starts a sign-in at the relying party), else its home page
 * (`client_uri`). Shown on error pages and after sign-out when the client is known.
 */
export interface ClientLinks {
  initiateLoginUri?: string | undefined;
  clientUri?: string | undefined;
}

const isWebUrl = (url: unknown): url is string => typeof url === 'string' && /^https?:\/\//.test(url);

export function startAgainUrlOf(client: ClientLinks | undefined): string | undefined {
  const url = client?.initiateLoginUri ?? client?.clientUri;
  return isWebUrl(url) ? url : undefined;
}

/**
 * Where the "signed out" page sends a person back to the application: its home page
 * (`client_uri`), else the first page it registered for after sign-out
 * (`post_logout_redirect_uris`), else where it starts a sign-in (`initiate_login_uri`).
 */
export function backAfterSignOutUrlOf(client: (ClientLinks & { postLogoutRedirectUris?: readonly string[] | undefined }) | undefined): string | undefined {
  return [client?.clientUri, client?.postLogoutRedirectUris?.[0], client?.initiateLoginUri].find(isWebUrl);
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
