// A throw-away OpenID provider (the certified `oidc-provider` package) on
// 127.0.0.1 for gdpr-connect's OAuth 2 tests. Started by scripts/oidc.sh,
// which generates the client key pairs and the client secret first.
//
// Clients (all client-credentials only, scopes `system/*.read` and
// `system/*.rs`):
//   gdpr-jwt          private_key_jwt (RS384 or ES384; the public keys of
//                     $OIDC_DIR/rsa.pub.pem, kid "gdpr-rsa", and
//                     $OIDC_DIR/ec.pub.pem, kid "gdpr-ec")
//   gdpr-secret       client_secret_basic, secret in $OIDC_DIR/client.secret
//   gdpr-secret-post  client_secret_post, the same secret
// Client-credentials tokens live $OIDC_TOKEN_TTL seconds (opaque, checked
// through the introspection endpoint, which any authenticated client may
// call; a client may revoke its own tokens at the revocation endpoint).
//
// gdpr-gateway's tests (client credentials, client_secret_basic with the
// same secret, scope `dicomweb`): asked with a resource indicator
// (`resource=urn:gdpr:gateway`, or `urn:gdpr:other` for a wrong audience)
// they get an RS256 JWT access token signed with $OIDC_DIR/provider.pem
// (kid "gdpr-provider"), whose `aud` is the resource and which carries the
// client's role (`gdpr_role`) and IHE IUA purpose of use
// (`extensions.ihe_iua.purpose_of_use`, a v3 PurposeOfUse coding):
//   gw-radiologist  role radiologist, purpose TREAT
//   gw-clerk        role clerk,       purpose HPAYMT
//   gw-research     role researcher,  purpose HRESCH
//   gw-nopurpose    role radiologist, no purpose
//
// The OHIF browser test (gdpr-gateway/tests/ohif.rs) logs in as a person:
//   gw-viewer       a public native client (no secret), authorization code
//                   with PKCE (S256, required for public clients), redirect
//                   http://127.0.0.1/callback on any loopback port (RFC 8252
//                   7.3), CORS from any http://127.0.0.1 origin; the
//                   provider's development log-in form takes any account
//                   name; the accounts `radiologist`, `clerk` and
//                   `researcher` get the claims of gw-radiologist, gw-clerk
//                   and gw-research; asked with resource=urn:gdpr:gateway
//                   its access token is the same RS256 JWT (300 s).
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const dir = process.env.OIDC_DIR;
const port = Number(process.env.OIDC_PORT);
const ttl = Number(process.env.OIDC_TOKEN_TTL || '10');
if (!dir || !port) {
  console.error('server.mjs: set OIDC_DIR and OIDC_PORT (scripts/oidc.sh does)');
  process.exit(2);
}

function publicJwk(file, kid, alg) {
  const jwk = createPublicKey(readFileSync(`${dir}/${file}`)).export({ format: 'jwk' });
  return { ...jwk, kid, alg, use: 'sig' };
}

const secret = readFileSync(`${dir}/client.secret`, 'utf8').trim();
const scope = 'system/*.read system/*.rs';
const client = (id, extra) => ({
  client_id: id,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope,
  ...extra,
});

// The gateway's clients and the claims their tokens carry.
const gatewayClaims = {
  'gw-radiologist': { role: 'radiologist', purpose: 'TREAT' },
  'gw-clerk': { role: 'clerk', purpose: 'HPAYMT' },
  'gw-research': { role: 'researcher', purpose: 'HRESCH' },
  'gw-nopurpose': { role: 'radiologist' },
};
// gw-viewer's accounts and the client whose claims each gets.
const viewerAccounts = { radiologist: 'gw-radiologist', clerk: 'gw-clerk', researcher: 'gw-research' };
const gatewayClient = (id) => ({
  client_id: id,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: 'dicomweb',
  token_endpoint_auth_method: 'client_secret_basic',
  client_secret: secret,
});
const gatewayResources = ['urn:gdpr:gateway', 'urn:gdpr:other'];
const providerKey = createPrivateKey(readFileSync(`${dir}/provider.pem`)).export({ format: 'jwk' });

const provider = new Provider(`http://127.0.0.1:${port}`, {
  jwks: { keys: [{ ...providerKey, kid: 'gdpr-provider', alg: 'RS256', use: 'sig' }] },
  clients: [
    client('gdpr-jwt', {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: {
        keys: [publicJwk('rsa.pub.pem', 'gdpr-rsa', 'RS384'), publicJwk('ec.pub.pem', 'gdpr-ec', 'ES384')],
      },
    }),
    client('gdpr-secret', { token_endpoint_auth_method: 'client_secret_basic', client_secret: secret }),
    client('gdpr-secret-post', { token_endpoint_auth_method: 'client_secret_post', client_secret: secret }),
    ...Object.keys(gatewayClaims).map(gatewayClient),
    {
      client_id: 'gw-viewer',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      scope: 'openid dicomweb',
    },
  ],
  findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  clientBasedCORS: (ctx, origin, client) =>
    client.clientId === 'gw-viewer' && /^http:\/\/127\.0\.0\.1:\d+$/.test(origin),
  scopes: ['openid', 'offline_access', 'system/*.read', 'system/*.rs', 'dicomweb'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    // Only gw-viewer's authorization requests reach it (the OHIF test).
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (!gatewayResources.includes(resource)) {
          throw new errors.InvalidTarget();
        }
        return {
          scope: 'dicomweb',
          audience: resource,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  extraTokenClaims: (ctx, token) => {
    const client = token.clientId === 'gw-viewer' ? viewerAccounts[token.accountId] : token.clientId;
    const claims = gatewayClaims[client];
    if (!claims) {
      return undefined;
    }
    const extra = { gdpr_role: claims.role };
    if (claims.purpose) {
      extra.extensions = {
        ihe_iua: {
          purpose_of_use: { system: 'urn:oid:2.16.840.1.113883.5.8', code: claims.purpose },
        },
      };
    }
    return extra;
  },
  enabledJWA: {
    clientAuthSigningAlgValues: ['RS256', 'RS384', 'PS384', 'ES256', 'ES384'],
  },
  ttl: { ClientCredentials: () => ttl },
  cookies: { keys: [secret] },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on http://127.0.0.1:${port}`);
});
