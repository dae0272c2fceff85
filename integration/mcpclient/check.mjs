// The official MCP TypeScript client against runtools' MCP server, over
// one transport: MCP_TRANSPORT=stdio spawns `$RUNTOOLS_BIN mcp` with
// RUNTOOLS_URL and RUNTOOLS_API_KEY; MCP_TRANSPORT=http speaks streamable
// HTTP to $RUNTOOLS_URL/mcp with the key as a bearer token. It lists the
// tools, then creates a sandbox, runs a command in it, writes and reads a
// file, lists its directory and destroys it, and checks that a sandbox of
// another team ($FOREIGN_SANDBOX) and an unknown one give tool errors.
// A paused sandbox wakes for exec. With RUN_CODE=1 it also runs a cell
// in a sandbox of the code template.
// Run by integration/mcp_test.go; exits non-zero on the first failure.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const { MCP_TRANSPORT, RUNTOOLS_BIN, RUNTOOLS_URL, RUNTOOLS_API_KEY, FOREIGN_SANDBOX } = process.env;

function transport() {
  if (MCP_TRANSPORT === "stdio") {
    return new StdioClientTransport({
      command: RUNTOOLS_BIN,
      args: ["mcp"],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, RUNTOOLS_URL, RUNTOOLS_API_KEY },
      stderr: "inherit",
    });
  }
  return new StreamableHTTPClientTransport(new URL(RUNTOOLS_URL + "/mcp"), {
    requestInit: { headers: { Authorization: `Bearer ${RUNTOOLS_API_KEY}` } },
  });
}

const client = new Client({ name: "runtools-mcp-check", version: "1.0.0" });
const step = (name) => console.log(`[${MCP_TRANSPORT}] ${name}`);

// call calls a tool that must succeed and returns its structured content.
async function call(name, args) {
  const res = await client.callTool({ name, arguments: args });
  assert.ok(!res.isError, `${name}: tool error: ${JSON.stringify(res.content)}`);
  return res.structuredContent;
}

// fails calls a tool that must give a tool error and returns its text.
async function fails(name, args) {
  const res = await client.callTool({ name, arguments: args });
  const text = res.content.map((c) => c.text ?? "").join("");
  assert.ok(res.isError, `${name}(${JSON.stringify(args)}): succeeded, want a tool error: ${text}`);
  return text;
}

await client.connect(transport());
step(`connected to ${client.getServerVersion().name} ${client.getServerVersion().version}`);

const { tools } = await client.listTools();
const names = tools.map((t) => t.name);
for (const want of ["create_sandbox", "list_sandboxes", "destroy_sandbox", "exec", "run_code", "read_file",
  "write_file", "list_files", "port_url", "pause_sandbox", "resume_sandbox", "screenshot", "click", "type_text", "press_keys"]) {
  assert.ok(names.includes(want), `no tool ${want} in ${names}`);
}
for (const t of tools) {
  assert.ok(t.description?.length > 20, `${t.name} has no useful description`);
  assert.equal(t.inputSchema.type, "object", `${t.name}'s input schema`);
}
step(`${tools.length} tools listed`);

const sb = await call("create_sandbox", { template: "base" });
assert.equal(sb.state, "running");
step(`created ${sb.id}`);

const ran = await call("exec", { sandbox: sb.id, command: "echo hello from $(uname -s); exit 3" });
assert.equal(ran.exit_code, 3);
assert.equal(ran.stdout, "hello from Linux\n");
step("exec");

await call("write_file", { sandbox: sb.id, path: "/root/mcp/note.txt", content: "written over MCP\n" });
const read = await call("read_file", { sandbox: sb.id, path: "/root/mcp/note.txt" });
assert.equal(read.content, "written over MCP\n");
const listing = await call("list_files", { sandbox: sb.id, path: "/root/mcp" });
assert.deepEqual(listing.entries.map((e) => e.name), ["note.txt"]);
const cat = await call("exec", { sandbox: sb.id, args: ["cat", "/root/mcp/note.txt"] });
assert.equal(cat.stdout, "written over MCP\n");
step("write_file, read_file, list_files");

const paused = await call("pause_sandbox", { sandbox: sb.id });
assert.equal(paused.state, "paused");
const woke = await call("exec", { sandbox: sb.id, command: "cat /root/mcp/note.txt" });
assert.equal(woke.stdout, "written over MCP\n", "exec in a paused sandbox wakes it");
step("pause_sandbox, then exec wakes it");

for (const ref of [FOREIGN_SANDBOX, "no-such-sandbox"]) {
  const msg = await fails("exec", { sandbox: ref, command: "true" });
  assert.match(msg, /not found/, `exec in ${ref}`);
  assert.match(msg, /list_sandboxes/, `exec in ${ref}: the error says what to do next`);
}
const mine = await call("list_sandboxes", {});
assert.ok(!mine.sandboxes.some((s) => s.id === FOREIGN_SANDBOX), "another team's sandbox is listed");
step("another team's sandbox and an unknown one are not found");

await call("destroy_sandbox", { sandbox: sb.id });
if (process.env.RUN_CODE === "1") {
  const code = await call("create_sandbox", { template: "code" });
  const res = await client.callTool({ name: "run_code", arguments: { sandbox: code.id, code: "x = 6 * 7\nprint('hi')\nx" } });
  assert.ok(!res.isError, `run_code: ${JSON.stringify(res.content)}`);
  assert.equal(res.structuredContent.text, "42");
  assert.equal(res.structuredContent.stdout, "hi\n");
  await call("destroy_sandbox", { sandbox: code.id });
  step("run_code");
}
assert.equal((await call("get_sandbox", { sandbox: sb.id })).state, "destroyed");
step("destroyed");

await client.close();
console.log(`[${MCP_TRANSPORT}] ok`);
