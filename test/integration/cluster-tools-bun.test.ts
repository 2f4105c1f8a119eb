/** The cluster tools and clients on bun nodes: see test/lib/cluster-tool-suites.ts. */
import { clusterToolSuites } from "../lib/cluster-tool-suites.ts";

clusterToolSuites("bun");
