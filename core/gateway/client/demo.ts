/**
 * The page the gateway serves at /: what a newcomer sees first. It uses
 * /client.js to subscribe to a channel and show messages as they arrive,
 * publish, and run any command; ?token=... is passed on to the gateway.
 */
export const DEMO_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Respite gateway</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; }
  form { display: flex; gap: .5rem; flex-wrap: wrap; }
  input { font: inherit; padding: .3rem .5rem; flex: 1; min-width: 8rem; }
  button { font: inherit; padding: .3rem .8rem; }
  #log, #result { background: #f4f4f4; border-radius: 4px; padding: .6rem; min-height: 3rem; white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 13px; }
  #log { max-height: 22rem; overflow: auto; }
  #status { font-weight: 600; } .open { color: #080; } .closed, .connecting { color: #a60; }
</style>
</head>
<body>
<h1>Respite gateway</h1>
<p>This page talks to the data server directly over a WebSocket, with <code>/client.js</code>.
Connection: <span id="status" class="connecting">connecting</span></p>

<h2>Subscribe</h2>
<form id="subscribe"><input id="channel" value="public:demo" aria-label="channel"><button>Subscribe</button></form>
<div id="log" aria-live="polite"></div>

<h2>Publish</h2>
<form id="publish"><input id="pubchannel" value="public:demo" aria-label="channel">
<input id="message" value="hello" aria-label="message"><button>Publish</button></form>

<h2>Run a command</h2>
<form id="command"><input id="cmd" value="PING" aria-label="command"><button>Run</button></form>
<div id="result"></div>

<script type="module">
import { RespiteClient } from "/client.js";
const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token") ?? undefined;
const client = new RespiteClient({ token });
window.respite = client;
const log = (line) => { $("log").textContent += line + "\\n"; $("log").scrollTop = $("log").scrollHeight; };
const status = (s) => { $("status").textContent = s; $("status").className = s; };
client.on("open", () => status("open"));
client.on("close", () => status("closed"));
client.on("recoveryfailed", ({ channel }) => log("(some messages on " + channel + " could not be recovered)"));
$("subscribe").onsubmit = (e) => {
  e.preventDefault();
  const channel = $("channel").value;
  client.subscribe(channel, (message, meta) => log(meta.channel + ": " + (typeof message === "string" ? message : JSON.stringify(message))))
    .then(() => log("(subscribed to " + channel + ")"));
};
$("publish").onsubmit = (e) => {
  e.preventDefault();
  client.call("PUBLISH", $("pubchannel").value, $("message").value).catch((err) => log("(publish refused: " + err.message + ")"));
};
const words = (line) => (line.match(/"[^"]*"|\\S+/g) ?? []).map((w) => w.replace(/^"(.*)"$/, "$1"));
$("command").onsubmit = (e) => {
  e.preventDefault();
  client.call(...words($("cmd").value)).then(
    (r) => ($("result").textContent = JSON.stringify(r, null, 2)),
    (err) => ($("result").textContent = "error: " + err.message),
  );
};
</script>
</body>
</html>
`;
