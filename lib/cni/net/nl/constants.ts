// rtnetlink numbers from <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>, <linux/neighbour.h>.
// Kept as plain constants so a plugin process loads nothing but the raw socket.

export const NLM_F = {
  REQUEST: 0x1, MULTI: 0x2, ACK: 0x4, ECHO: 0x8, DUMP: 0x300, DUMP_FILTERED: 0x20, REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, APPEND: 0x800,
} as const;
export const NLMSG = { ERROR: 2, DONE: 3 } as const;
/** set on nested attributes; some kernel paths (bridge setlink) insist on it */
export const NLA_F_NESTED = 0x8000;

export const RTM = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18, SETLINK: 19,
  NEWADDR: 20, DELADDR: 21, GETADDR: 22,
  NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26,
  NEWNEIGH: 28, DELNEIGH: 29, GETNEIGH: 30,
} as const;

export const AF = { UNSPEC: 0, INET: 2, BRIDGE: 7, INET6: 10 } as const;

export const IFF = { UP: 0x1, PROMISC: 0x100, LOWER_UP: 0x10000 } as const;

export const IFLA = {
  ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, PROTINFO: 12, OPERSTATE: 16, LINKINFO: 18, IFALIAS: 20,
  AF_SPEC: 26, NET_NS_FD: 28, LINK_NETNSID: 37,
} as const;
export const IFLA_INFO = { KIND: 1, DATA: 2, SLAVE_KIND: 4, SLAVE_DATA: 5 } as const;
export const VETH_INFO_PEER = 1;
export const IFLA_BR = { VLAN_FILTERING: 7 } as const;
export const IFLA_BRPORT = { MODE: 4, LEARNING: 8 } as const;
export const IFLA_BRIDGE = { FLAGS: 0, VLAN_INFO: 2 } as const;
export const BRIDGE_VLAN_INFO = { PVID: 0x2, UNTAGGED: 0x4 } as const;
export const IFLA_VXLAN = {
  ID: 1, GROUP: 2, LINK: 3, LOCAL: 4, TTL: 5, LEARNING: 7, PORT: 15, GROUP6: 16, LOCAL6: 17,
} as const;

export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8 } as const;
export const IFA_F = { NODAD: 0x02, PERMANENT: 0x80, NOPREFIXROUTE: 0x200 } as const;

export const RTA = { DST: 1, SRC: 2, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, METRICS: 8, MULTIPATH: 9, TABLE: 15 } as const;
export const RTAX = { MTU: 2, ADVMSS: 8 } as const;
export const RTN = { UNICAST: 1, LOCAL: 2, BROADCAST: 3, BLACKHOLE: 6, UNREACHABLE: 7, PROHIBIT: 8 } as const;
export const RT_SCOPE = { UNIVERSE: 0, LINK: 253, HOST: 254, NOWHERE: 255 } as const;
export const RTPROT = { UNSPEC: 0, KERNEL: 2, BOOT: 3, STATIC: 4 } as const;
export const RT_TABLE = { UNSPEC: 0, COMPAT: 252, MAIN: 254, LOCAL: 255 } as const;
export const RTNH_F_ONLINK = 0x4;

export const NDA = { DST: 1, LLADDR: 2, PORT: 6, VNI: 7, IFINDEX: 8, MASTER: 9 } as const;
export const NUD = { PERMANENT: 0x80, NOARP: 0x40, REACHABLE: 0x02 } as const;
export const NTF = { SELF: 0x02, MASTER: 0x04 } as const;
