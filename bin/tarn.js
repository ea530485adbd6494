#!/usr/bin/env node
// @ts-check
/**
 * tarn: the admin API from a terminal. Plain JavaScript, so it runs the same from a checkout
 * (`npx tarn`) and after an install, with no build step and no TypeScript loader.
 * Server and token: --url / --token, or TARN_URL / TARN_ADMIN_TOKEN.
 */
import { parseArgs } from 'node:util';
import { createApi, describeError } from './lib/api.js';
import * as commands from './lib/commands.js';

const USAGE = `Usage: tarn COMMAND [options]

  pools list
  pools create ID [--name NAME]
  clients create POOL --name NAME [--redirect-uri URI …] [--public] [--client-id ID]
  users import POOL FILE [--csv] [--dry-run] [--atomic] [--on-conflict skip|update|fail]
                         [--require-password-change] [--chunk-size N]
                         [--firebase-signer-key B64 --firebase-salt-separator B64
                          --firebase-rounds N --firebase-mem-cost N]
  users export POOL [--output FILE] [--include-password-hashes]
  import keycloak REALM.json [USERS.json …] [--pool ID] [--dry-run] [--on-conflict …] [--chunk-size N]
  import auth0 POOL USERS.ndjson [--dry-run] [--atomic] [--on-conflict …] [--chunk-size N]
  keys rotate POOL [--revoke]
  secrets rotate POOL

Large files go in consecutive requests of --chunk-size users (default 50000), so a failed
request loses only its own part; --atomic holds within one request only (a larger
--chunk-size sends a file as one request: the server does not cut a long import).

Options for every command:
  --url URL       the server (TARN_URL, default http://localhost:3000)
  --token TOKEN   the admin token (TARN_ADMIN_TOKEN)
`;

const COMMANDS = {
  'pools list': commands.poolsList,
  'pools create': commands.poolsCreate,
  'clients create': commands.clientsCreate,
  'users import': commands.usersImport,
  'users export': commands.usersExport,
  'import keycloak': commands.importKeycloak,
  'import auth0': commands.importAuth0,
  'keys rotate': commands.keysRotate,
  'secrets rotate': commands.secretsRotate,
};

/** @param {string[]} argv @param {Record<string, string | undefined>} env */
export async function main(argv, env) {
  const out = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        name: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        public: { type: 'boolean' },
        'client-id': { type: 'string' },
        csv: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        atomic: { type: 'boolean' },
        'on-conflict': { type: 'string' },
        'require-password-change': { type: 'boolean' },
        'chunk-size': { type: 'string' },
        'firebase-signer-key': { type: 'string' },
        'firebase-salt-separator': { type: 'string' },
        'firebase-rounds': { type: 'string' },
        'firebase-mem-cost': { type: 'string' },
        output: { type: 'string', short: 'o' },
        'include-password-hashes': { type: 'boolean' },
        pool: { type: 'string' },
        revoke: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`${describeError(error)}\n\n${USAGE}`);
    return 2;
  }
  const [group = '', verb = '', ...rest] = parsed.positionals;
  const command = /** @type {Record<string, (api: any, run: any) => Promise<number>>} */ (COMMANDS)[`${group} ${verb}`];
  if (parsed.values.help || !command) {
    (parsed.values.help ? process.stdout : process.stderr).write(USAGE);
    return parsed.values.help ? 0 : 2;
  }
  try {
    const api = createApi({ url: parsed.values.url, token: parsed.values.token }, env);
    return await command(api, { values: parsed.values, positionals: rest, out, err: process.stderr });
  } catch (error) {
    process.stderr.write(`${describeError(error)}\n`);
    return error instanceof commands.UsageError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2), process.env);
