/** The cluster suites run against redis-server itself when RESPITE_RUNTIMES names "redis" (a check of the tests). */
import { clusterToolSuites } from "../lib/cluster-tool-suites.ts";

clusterToolSuites("redis");
