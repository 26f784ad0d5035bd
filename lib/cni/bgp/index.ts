// berth's BGP-4 speaker: the pieces a caller (the agent, the CLI) uses. The codec lives in ./codec.
export { BgpSpeaker, type PeerConfig, type SpeakerOptions, type PeerStatus, type RouteStatus, type BestChange, type PeerSession, type FamilyDeferral, type SelectionEnd } from './speaker';
export { FibSync, NetlinkFib, RTPROT_BGP, type FibBackend, type FibEntry, type FibError } from './fib';
export { ACCEPT_ALL, REJECT_ALL, evaluatePolicy, type Policy, type PolicyRule, type PolicyMatch, type PolicySet, type PrefixMatch } from './policy';
export type { FsmState } from './fsm';
