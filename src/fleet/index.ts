/** Fleet-wide strikes and blocks on Redis (issue 13): see native-notes/fleet.md. */
export { RedisFleet } from './redis-fleet.js';
export {
  type FleetOptions,
  type FleetStats,
  type FleetHealth,
  type FleetThreshold,
  type FleetRule,
  type FleetLogger,
  type ThresholdSource,
  type RuleWindow,
} from './redis-fleet-types.js';
export { type FleetBlock } from './block-stream.js';
export { parseFleetUrl, type FleetUrl } from './fleet-url.js';
