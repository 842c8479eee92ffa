// Who signed a request: the credentials the local cloud issued, checked as AWS
// checks them. An account root's key is its 12-digit account id and any secret
// (the SDKs, the AWS CLI and the tests sign with whatever secret they were
// given, so there is nothing to compare against); a temporary key must come
// with its session token, before its expiry, and signed with its secret. Any
// other key is unknown, as AWS would say.
import type { NamedPolicy, Principal } from './evaluate.js';
import { signatureMatches, type SignedClaim, type WireRequest } from './sigv4.js';
import type { SessionRecord } from '../services/sts/service.js';
import { AwsError } from '../types.js';

/** The caller a request was authenticated as. */
export type Caller =
  | { readonly kind: 'root'; readonly accountId: string; readonly arn: string }
  | { readonly kind: 'session'; readonly accountId: string; readonly arn: string; readonly roleArn: string; readonly sessionName: string };

/** A temporary key as STS recorded it. */
export type IssuedSession = SessionRecord;

/** The services that answer in the Query/REST-XML family name an unknown key InvalidClientTokenId. */
const QUERY_FAMILY = new Set(['sts', 'route53']);

const INVALID_TOKEN = 'The security token included in the request is invalid.';

export function unknownCredentials(service: string): AwsError {
  return QUERY_FAMILY.has(service)
    ? new AwsError('InvalidClientTokenId', INVALID_TOKEN, 403)
    : new AwsError('UnrecognizedClientException', INVALID_TOKEN, 403);
}

export const expiredToken = () => new AwsError('ExpiredTokenException', 'The security token included in the request is expired', 403);

export const signatureMismatch = () =>
  new AwsError(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    403,
  );

const ROOT_KEY = /^\d{12}$/;

/**
 * The caller of a signed request, or the AWS error the service would answer:
 * UnrecognizedClientException / InvalidClientTokenId for a key this cloud never
 * issued (or a session token that is not the key's), ExpiredTokenException,
 * SignatureDoesNotMatch.
 */
export function authenticate(claim: SignedClaim, request: WireRequest, session: IssuedSession | undefined, now: Date): Caller {
  if (ROOT_KEY.test(claim.accessKeyId)) {
    return { kind: 'root', accountId: claim.accessKeyId, arn: `arn:aws:iam::${claim.accessKeyId}:root` };
  }
  if (!session || claim.sessionToken !== session.sessionToken) throw unknownCredentials(claim.service);
  if (Date.parse(session.expiresAt) <= now.getTime()) throw expiredToken();
  if (!signatureMatches(request, claim, session.secretAccessKey)) throw signatureMismatch();
  return {
    kind: 'session',
    accountId: session.accountId,
    arn: `arn:aws:sts::${session.accountId}:assumed-role/${session.roleName}/${session.sessionName}`,
    roleArn: session.roleArn,
    sessionName: session.sessionName,
  };
}

/** The principal the evaluator judges: a root, or a session with its role's identity policies. */
export function principalOf(caller: Caller, policies: readonly NamedPolicy[]): Principal {
  return caller.kind === 'root'
    ? { kind: 'root', accountId: caller.accountId }
    : { kind: 'role', roleArn: caller.roleArn, sessionName: caller.sessionName, policies };
}
