// Numbers from the BGP RFCs, named once so the rest of the code reads as prose.

/** Message types (RFC 4271 §4.1, RFC 2918 §3). */
export const MSG = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

export const HEADER_LEN = 19;
/** RFC 4271 §4: the largest message without the Extended Message capability (RFC 8654). */
export const MAX_MESSAGE_LEN = 4096;

/** AFI (IANA Address Family Numbers) and SAFI (RFC 4760 §6). */
export const AFI = { IPV4: 1, IPV6: 2 } as const;
export const SAFI = { UNICAST: 1 } as const;
export type Afi = (typeof AFI)[keyof typeof AFI];

/** RFC 6793 §9: the 2-octet stand-in for a 4-octet AS number. */
export const AS_TRANS = 23456;

/** Path attribute type codes (RFC 4271 §5, RFC 1997, RFC 4456, RFC 4760, RFC 6793). */
export const ATTR = {
  ORIGIN: 1, AS_PATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, ATOMIC_AGGREGATE: 6, AGGREGATOR: 7,
  COMMUNITIES: 8, ORIGINATOR_ID: 9, CLUSTER_LIST: 10, MP_REACH_NLRI: 14, MP_UNREACH_NLRI: 15,
  AS4_PATH: 17, AS4_AGGREGATOR: 18,
} as const;

/** Attribute flag bits (RFC 4271 §4.3). */
export const FLAG = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

/** Capability codes (IANA; RFC 4760, RFC 2918, RFC 4724, RFC 6793). */
export const CAP = { MULTIPROTOCOL: 1, ROUTE_REFRESH: 2, GRACEFUL_RESTART: 64, FOUR_OCTET_AS: 65, ENHANCED_ROUTE_REFRESH: 70 } as const;

/** RFC 7313 §3: ROUTE-REFRESH message subtypes */
export const REFRESH = { REQUEST: 0, BEGIN: 1, END: 2 } as const;

/** NOTIFICATION error codes and subcodes (RFC 4271 §4.5, §6; RFC 5492 §5; RFC 7313 §5; RFC 4486). */
export const ERR = {
  HEADER: 1, OPEN: 2, UPDATE: 3, HOLD_TIMER: 4, FSM: 5, CEASE: 6, ROUTE_REFRESH: 7,
} as const;
export const HEADER_SUB = { CONN_NOT_SYNC: 1, BAD_LENGTH: 2, BAD_TYPE: 3 } as const;
/** RFC 7313 §5: ROUTE-REFRESH Message Error subcodes */
export const ROUTE_REFRESH_SUB = { INVALID_LENGTH: 1 } as const;
export const OPEN_SUB = {
  UNSPECIFIC: 0, UNSUPPORTED_VERSION: 1, BAD_PEER_AS: 2, BAD_BGP_ID: 3, UNSUPPORTED_OPT_PARAM: 4,
  UNACCEPTABLE_HOLD_TIME: 6, UNSUPPORTED_CAPABILITY: 7,
} as const;
export const UPDATE_SUB = {
  MALFORMED_ATTR_LIST: 1, UNRECOGNIZED_WELL_KNOWN: 2, MISSING_WELL_KNOWN: 3, ATTR_FLAGS: 4, ATTR_LENGTH: 5,
  INVALID_ORIGIN: 6, INVALID_NEXT_HOP: 8, OPTIONAL_ATTR: 9, INVALID_NETWORK: 10, MALFORMED_AS_PATH: 11,
} as const;
export const CEASE_SUB = {
  MAX_PREFIXES: 1, ADMIN_SHUTDOWN: 2, PEER_DECONFIGURED: 3, ADMIN_RESET: 4, CONNECTION_REJECTED: 5,
  OTHER_CONFIG_CHANGE: 6, COLLISION_RESOLUTION: 7, OUT_OF_RESOURCES: 8, HARD_RESET: 9,
} as const;
