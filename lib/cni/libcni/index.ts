// The runtime side of CNI in one import: load network configs, run them for attachments.
export { DEFAULT_CONF_DIR, loadNetworkFile, loadNetworkList, parseNetworkList, configFiles } from './conf';
export type { NetworkList, PluginConf } from './conf';
export { DEFAULT_CACHE_DIR } from './cache';
export {
  addNetworkList, checkNetworkList, delNetworkList, gcNetworkList, getCachedResult, statusNetworkList,
} from './api';
export type { RuntimeConf } from './api';
