/**
 * Apache httpd with mod_auth_openidc (Debian's packages) as a relying party: its own config
 * file, ServerRoot, PidFile and port in a temporary directory, run in the foreground as a
 * child process and stopped by its process id. The protected page is a server-side include
 * that prints the claims mod_auth_openidc hands to the page.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './tarn-process.js';

const MODULES = '/usr/lib/apache2/modules';

export interface ApacheRelyingParty {
  url: string;
  /** The redirect URI to register at Tarn (mod_auth_openidc's own endpoint). */
  redirectUri: string;
  /** Back-channel logout endpoint of mod_auth_openidc. */
  backchannelLogoutUri: string;
  errorLog(): string;
  stop(): Promise<void>;
}

export interface ApacheOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  authMethod: 'client_secret_basic' | 'client_secret_post';
  port: number;
}

export async function reserveApachePort(): Promise<number> {
  return freePort();
}

export async function startApache(options: ApacheOptions): Promise<ApacheRelyingParty> {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-apache-'));
  chmodSync(dir, 0o755);
  const htdocs = join(dir, 'htdocs');
  mkdirSync(join(htdocs, 'protected'), { recursive: true });
  const url = `http://127.0.0.1:${options.port}`;
  writeFileSync(
    join(htdocs, 'protected', 'index.shtml'),
    '<!doctype html><title>protected</title>\n<p id="sub"><!--#echo var="OIDC_CLAIM_sub" --></p>\n<p id="email"><!--#echo var="OIDC_CLAIM_email" --></p>\n<p id="name"><!--#echo var="OIDC_CLAIM_name" --></p>\n',
  );
  writeFileSync(join(htdocs, 'logged-out.html'), '<!doctype html><title>logged out</title><p>signed out of the relying party</p>\n');
  const config = `
ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${options.port}
PidFile "${dir}/httpd.pid"
ErrorLog "${dir}/error.log"
LogLevel warn auth_openidc:info
User nobody
Group nogroup
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule include_module ${MODULES}/mod_include.so
LoadModule mime_module ${MODULES}/mod_mime.so
LoadModule dir_module ${MODULES}/mod_dir.so
LoadModule auth_openidc_module ${MODULES}/mod_auth_openidc.so
TypesConfig /etc/mime.types
DocumentRoot "${htdocs}"
DirectoryIndex index.shtml index.html
<Directory "${htdocs}">
  Options +Includes
  AddType text/html .shtml
  AddOutputFilter INCLUDES .shtml
  Require all granted
</Directory>
OIDCProviderMetadataURL ${options.issuer}/.well-known/openid-configuration
OIDCClientID ${options.clientId}
OIDCClientSecret ${options.clientSecret}
OIDCProviderTokenEndpointAuth ${options.authMethod}
OIDCRedirectURI ${url}/protected/redirect_uri
OIDCCryptoPassphrase ${Buffer.from(options.clientSecret).toString('hex').slice(0, 32)}
OIDCScope "openid email profile"
OIDCPKCEMethod S256
OIDCPassClaimsAs environment
OIDCSessionType server-cache
OIDCDefaultLoggedOutURL ${url}/logged-out.html
<Location /protected>
  AuthType openid-connect
  Require valid-user
</Location>
`;
  const configFile = join(dir, 'httpd.conf');
  writeFileSync(configFile, config);
  const child: ChildProcess = spawn('/usr/sbin/apache2', ['-f', configFile, '-DFOREGROUND'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  child.stderr!.on('data', (chunk) => (out += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  await waitFor(
    async () =>
      gone ||
      (await fetch(`${url}/logged-out.html`).then(
        (r) => r.ok,
        () => false,
      )),
    'Apache to listen',
    20_000,
  );
  if (gone) throw new Error(`Apache did not start: ${out}\n${errorLog()}`);
  return {
    url,
    redirectUri: `${url}/protected/redirect_uri`,
    backchannelLogoutUri: `${url}/protected/redirect_uri?logout=backchannel`,
    errorLog,
    async stop() {
      if (gone) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
