// Building the config one plugin of a list receives (the reference's buildOneConfig): the plugin's own
// section plus the list's name and cniVersion, the previous result, and runtimeConfig holding the
// capability arguments the plugin declared it understands (portMappings, ips, mac, bandwidth, ...).
import type { PluginConf } from './conf';

export function pluginRuntimeConfig(plugin: PluginConf, capabilityArgs: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!capabilityArgs || !plugin.capabilities || typeof plugin.capabilities !== 'object') return undefined;
  const rc: Record<string, unknown> = {};
  for (const [key, enabled] of Object.entries(plugin.capabilities)) {
    // only what the plugin asked for: plugins may reject runtimeConfig keys they do not know
    if (enabled === true && capabilityArgs[key] !== undefined) rc[key] = capabilityArgs[key];
  }
  return Object.keys(rc).length ? rc : undefined;
}

export function buildPluginConf(
  plugin: PluginConf,
  list: { name: string; cniVersion: string },
  capabilityArgs?: Record<string, unknown>,
  prevResult?: unknown,
  extra?: Record<string, unknown>,
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  const rc = pluginRuntimeConfig(plugin, capabilityArgs);
  if (rc) conf.runtimeConfig = rc;
  else delete conf.runtimeConfig;
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return { ...conf, ...extra };
}
