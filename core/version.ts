/** The Redis version Respite answers as (INFO, HELLO, RDB's redis-ver), and its own. */
export const VERSION = "7.0.15";
export const RESPITE_VERSION = "0.1.0";
