/**
 * The file adapter Node and Bun share, and the temporary file a background
 * save commits, on real files: a closed file's descriptor number goes to
 * the next file or socket opened, so nothing done late (a second close, the
 * end of a save given up while its fsync ran) may reach it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { nodeFiles } from "../../adapters/files-node.ts";
import { TempFile } from "../../core/persist/temp-file.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function scratch(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "respite-files-"));
}

describe("node:fs files", () => {
  it("a close during an fsync, then a second close, leave the next file opened alone", async () => {
    const dir = scratch();
    const first = nodeFiles.open(path.join(dir, "a"), "truncate");
    first.write(bytes("a"));
    const syncing = first.sync();
    first.close();
    const next = nodeFiles.open(path.join(dir, "b"), "truncate");
    await syncing;
    first.close();
    next.write(bytes("still open"));
    next.close();
    assert.equal(fs.readFileSync(path.join(dir, "b"), "latin1"), "still open");
    fs.rmSync(dir, { recursive: true });
  });

  it("refuses writes, truncates and fsyncs once closed", async () => {
    const dir = scratch();
    const f = nodeFiles.open(path.join(dir, "a"), "truncate");
    f.close();
    const next = nodeFiles.open(path.join(dir, "b"), "truncate");
    assert.throws(() => f.write(bytes("x")), /EBADF/);
    assert.throws(() => f.truncate(0), /EBADF/);
    assert.throws(() => f.syncNow(), /EBADF/);
    await assert.rejects(f.sync(), /EBADF/);
    next.close();
    assert.equal(fs.readFileSync(path.join(dir, "b"), "latin1"), "");
    fs.rmSync(dir, { recursive: true });
  });
});

describe("TempFile", () => {
  it("given up while its fsync runs, renames nothing, though the next job already writes the same temporary name", async () => {
    const dir = scratch();
    const tmp = path.join(dir, "temp-1.rdb");
    const target = path.join(dir, "dump.rdb");
    fs.writeFileSync(target, "old");
    const abandoned = new TempFile(nodeFiles, tmp);
    abandoned.write(bytes("abandoned"));
    const committing = abandoned.commit(target);
    abandoned.discard();
    const next = new TempFile(nodeFiles, tmp);
    next.write(bytes("next, "));
    await assert.rejects(committing, /discarded/);
    assert.equal(fs.readFileSync(target, "latin1"), "old");
    next.write(bytes("whole"));
    await next.commit(target);
    assert.equal(fs.readFileSync(target, "latin1"), "next, whole");
    // Given up after its commit (a job cancelled late), it removes nothing.
    const late = new TempFile(nodeFiles, tmp);
    await late.commit(target);
    fs.writeFileSync(tmp, "someone else's");
    late.discard();
    assert.equal(fs.readFileSync(tmp, "latin1"), "someone else's");
    fs.rmSync(dir, { recursive: true });
  });
});
