/**
 * /client.js: the browser client as an ES module, made from the class's
 * own source text, so what the gateway serves is what the repository
 * typechecks (with the types already stripped by whichever runtime or
 * bundler loaded this file).
 */
import { RespiteClient } from "./client.ts";

export const CLIENT_JS = `// Respite browser client (served by the gateway; source: core/gateway/client/client.ts)
const RespiteClient = ${RespiteClient.toString()};
export { RespiteClient };
export default RespiteClient;
`;
