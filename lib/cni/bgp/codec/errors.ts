// Typed decoding errors. A decoder throws only BgpError: it carries the NOTIFICATION that RFC 4271 §6
// (as revised by RFC 7606) requires, so the session layer can send it verbatim and close.
import { BerthError } from '../../../util/errors';

export class BgpError extends BerthError {
  readonly code: number;
  readonly subcode: number;
  /** NOTIFICATION data field, as the RFC section for this error prescribes */
  readonly data: Buffer;
  constructor(code: number, subcode: number, message: string, data: Buffer = Buffer.alloc(0)) {
    super(`bgp ${code}/${subcode}: ${message}`);
    this.name = 'BgpError';
    this.code = code;
    this.subcode = subcode;
    this.data = data;
  }
}

/**
 * RFC 7606 §2 approaches to a bad attribute in an UPDATE, mildest first:
 * - attribute-discard: drop the attribute, keep the routes;
 * - treat-as-withdraw: keep the session, treat every NLRI of the UPDATE as withdrawn;
 * - session-reset: send NOTIFICATION and close (carried by a thrown BgpError instead).
 */
export type AttrAction = 'attribute-discard' | 'treat-as-withdraw';

export interface AttrIssue {
  action: AttrAction;
  /** attribute type code, 0 when the problem is the attribute list itself */
  type: number;
  /** the NOTIFICATION subcode RFC 4271 would have sent (code 3, UPDATE Message Error) */
  subcode: number;
  reason: string;
}
