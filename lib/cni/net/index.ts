// The netlink / netns layer shared by every plugin and the agent. Only the raw netlink socket is
// loaded (lazily, on the first Rtnl), so importing this costs almost nothing.
export { Rtnl, NetlinkError } from './nl/socket';
export * from './netns';
export * from './link';
export * from './addr';
export * from './route';
export * from './neigh';
export * from './sysctl';
export * from '../../util/ip-address';
export * from './mac';
export { RT_SCOPE, RTPROT, RT_TABLE } from './nl/constants';
export * from './attach';
export * from './bridge';
export * from './container';
