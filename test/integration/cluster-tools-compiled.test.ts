/** The cluster tools and clients on compiled nodes: see test/lib/cluster-tool-suites.ts. */
import { clusterToolSuites } from "../lib/cluster-tool-suites.ts";

clusterToolSuites("compiled");
