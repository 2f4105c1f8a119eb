/**
 * Redis 7.0's AOF manifest: which files make the AOF, one line each,
 * `file <name> seq <n> type <b|h|i>` (base, history, incremental), in the
 * order base, history, incrementals. Also the file names Redis gives them:
 * `<appendfilename>.<seq>.base.rdb|aof` and `<appendfilename>.<seq>.incr.aof`.
 */

export interface AofFileInfo {
  name: string;
  seq: number;
  type: "b" | "h" | "i";
}

export class Manifest {
  base: AofFileInfo | null = null;
  incrs: AofFileInfo[] = [];
  history: AofFileInfo[] = [];
  baseSeq = 0;
  incrSeq = 0;

  clone(): Manifest {
    const m = new Manifest();
    m.base = this.base && { ...this.base };
    m.incrs = this.incrs.map((f) => ({ ...f }));
    m.history = this.history.map((f) => ({ ...f }));
    m.baseSeq = this.baseSeq;
    m.incrSeq = this.incrSeq;
    return m;
  }

  /** Adds a new incremental file and returns its name. */
  newIncr(filename: string): string {
    const name = `${filename}.${++this.incrSeq}.incr.aof`;
    this.incrs.push({ name, seq: this.incrSeq, type: "i" });
    return name;
  }

  /** A new base replaces the old one; the old base and all incrementals but the last become history. */
  newBase(filename: string, preamble: boolean): string {
    const name = `${filename}.${++this.baseSeq}.base.${preamble ? "rdb" : "aof"}`;
    if (this.base !== null) this.history.push({ ...this.base, type: "h" });
    this.base = { name, seq: this.baseSeq, type: "b" };
    return name;
  }

  /** All incrementals except the newest move to history (they are inside the new base). */
  retireIncrsBeforeLast(): void {
    const last = this.incrs.pop();
    for (const f of this.incrs) this.history.push({ ...f, type: "h" });
    this.incrs = last ? [last] : [];
  }

  toString(): string {
    const line = (f: AofFileInfo) => `file ${quote(f.name)} seq ${f.seq} type ${f.type}\n`;
    return [...(this.base ? [this.base] : []), ...this.history, ...this.incrs].map(line).join("");
  }

  static parse(text: string): Manifest {
    const m = new Manifest();
    let lines = 0;
    for (const raw of text.split("\n")) {
      const lineText = raw.replace(/\r$/, "").trim();
      if (lineText === "" ) continue;
      if (lineText.startsWith("#")) continue;
      lines++;
      const words = splitArgs(lineText);
      if (words === null || words.length % 2 !== 0) throw new Error("Invalid AOF manifest file format");
      const kv = new Map<string, string>();
      for (let i = 0; i < words.length; i += 2) kv.set(words[i], words[i + 1]);
      const name = kv.get("file"), seq = kv.get("seq"), type = kv.get("type");
      if (name === undefined || seq === undefined || type === undefined) throw new Error("Invalid AOF manifest file format");
      const info: AofFileInfo = { name, seq: Number(seq), type: type as AofFileInfo["type"] };
      if (type === "b") {
        if (m.base !== null) throw new Error("Found duplicate base file information");
        m.base = info;
        m.baseSeq = info.seq;
      } else if (type === "h") m.history.push(info);
      else if (type === "i") {
        if (info.seq <= m.incrSeq) throw new Error("Found a non-monotonic sequence number");
        m.incrs.push(info);
        m.incrSeq = info.seq;
      } else throw new Error("Unknown AOF file type");
    }
    if (lines === 0) throw new Error("Found an empty AOF manifest");
    return m;
  }
}

/** Names with spaces or unusual bytes are written quoted, as Redis's sdscatrepr. */
function quote(name: string): string {
  return /^[\x21-\x7e]+$/.test(name) && !/["'\\]/.test(name) ? name : JSON.stringify(name);
}

/** Redis's sdssplitargs for the manifest: words, "double quoted" or 'single quoted'. */
function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"']+))/y;
  let pos = 0;
  while (pos < line.length) {
    re.lastIndex = pos;
    const m = re.exec(line);
    if (m === null) return line.slice(pos).trim() === "" ? out : null;
    out.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : m[2] ?? m[3]);
    pos = re.lastIndex;
  }
  return out;
}
