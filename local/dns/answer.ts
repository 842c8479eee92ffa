// How the local authoritative server answers one query, as a pure function of
// the query and the zones' DNS view: answers with AA, CNAME chased within local
// zones, NXDOMAIN vs NODATA with the zone's SOA, referrals below delegations,
// REFUSED for names in no local zone.
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import { AUTHORITATIVE_ANSWER, RECURSION_DESIRED } from 'dns-packet';
import type { DnsLookup } from '../aws/services/route53/service.js';
import { normalizeName, presentationName } from '../aws/services/route53/names.js';
import { hostOf, negativeSoa, toAnswers } from './rdata.js';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** What the answerer needs from Route 53. */
export interface ZoneView {
  lookup(name: string, now: Date): DnsLookup;
}

const MAX_CNAME_HOPS = 8;
const OPCODE_MASK = 0x7800;

/** Response header flags: the query's opcode and RD bit echoed, plus AA and the rcode. */
export function responseFlags(query: Pick<Packet, 'flags'>, rcode: number, authoritative = false): number {
  const flags = query.flags ?? 0;
  return (flags & OPCODE_MASK) | (flags & RECURSION_DESIRED) | (authoritative ? AUTHORITATIVE_ANSWER : 0) | rcode;
}

/** A response with no records: FORMERR, NOTIMP, REFUSED, SERVFAIL. */
export function errorResponse(query: Pick<Packet, 'id' | 'flags' | 'questions'>, rcode: number): Packet {
  return { type: 'response', id: query.id ?? 0, flags: responseFlags(query, rcode), questions: query.questions ?? [] };
}

export function answerQuery(query: DecodedPacket, view: ZoneView, now: Date): Packet {
  const questions = query.questions ?? [];
  if (((query.flags ?? 0) & OPCODE_MASK) !== 0) return errorResponse(query, RCODE.NOTIMP);
  if (questions.length !== 1) return errorResponse(query, RCODE.FORMERR);
  const question = questions[0]!;
  if ((question.class ?? 'IN') !== 'IN') return errorResponse(query, RCODE.REFUSED);

  const result = resolve(question, view, now);
  if (result.rcode === RCODE.REFUSED) return errorResponse(query, RCODE.REFUSED);
  return {
    type: 'response',
    id: query.id ?? 0,
    flags: responseFlags(query, result.rcode, result.authoritative),
    questions,
    answers: result.answers,
    authorities: result.authorities,
  };
}

interface Resolution {
  rcode: number;
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
}

function resolve(question: Question, view: ZoneView, now: Date): Resolution {
  const qtype: string = question.type;
  const answers: Answer[] = [];
  const seen = new Set<string>();
  let name = question.name;
  let authoritative = false;

  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    const first = hop === 0;
    const found = view.lookup(name, now);
    // Outside our zones (or delegated away) the chase stops: the resolver follows the last CNAME itself.
    if (!found.zone) return first ? { rcode: RCODE.REFUSED, authoritative, answers, authorities: [] } : done();
    if (found.delegation) {
      if (!first) return done();
      return { rcode: RCODE.NOERROR, authoritative: false, answers, authorities: toAnswers(found.delegation, hostOf(found.delegation.name)) };
    }
    if (first) authoritative = true;

    const owner = first ? question.name : name;
    const matching = found.rrsets.filter((rs) => qtype === 'ANY' || rs.type === qtype);
    if (matching.length) {
      answers.push(...matching.flatMap((rs) => toAnswers(rs, owner)));
      return done();
    }
    const cname = found.rrsets.find((rs) => rs.type === 'CNAME');
    if (cname && cname.values[0] !== undefined) {
      answers.push(...toAnswers(cname, owner));
      const target = hostOf(cname.values[0]);
      const key = canonical(target);
      if (seen.has(key) || key === canonical(name)) return done();
      seen.add(key);
      name = target;
      continue;
    }
    const authorities = found.zone.soa ? negativeSoa(found.zone.soa, presentationName(found.zone.name)) : [];
    return { rcode: found.nxdomain ? RCODE.NXDOMAIN : RCODE.NOERROR, authoritative, answers, authorities };
  }
  return done();

  function done(): Resolution {
    return { rcode: RCODE.NOERROR, authoritative, answers, authorities: [] };
  }
}

function canonical(name: string): string {
  try {
    return normalizeName(name);
  } catch {
    return name.toLowerCase();
  }
}
