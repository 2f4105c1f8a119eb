/**
 * The first line of a script or library: `#!lua flags=no-writes,...` for
 * EVAL scripts, `#!lua name=mylib` for FUNCTION LOAD. Words are split
 * like Redis's sdssplitargs (quotes allowed).
 */
import { FLAG_NAMES, noFlags, type ScriptFlags } from "./runner.ts";

function splitWords(line: string): string[] | null {
  const words: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+))/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null && m[0].trim() !== "") words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

/** Parses the comma-separated flag names Redis accepts; returns the first unknown one as an error. */
export function parseFlagList(names: string[], flags: ScriptFlags): string | null {
  for (const name of names) {
    const key = FLAG_NAMES[name];
    if (key === undefined) return name;
    flags[key] = true;
  }
  return null;
}

/** EVAL's shebang: the script's flags and the shebang's length, or an error text. */
export function evalShebang(body: string): { flags: ScriptFlags; length: number } | string {
  if (!body.startsWith("#!")) return { flags: noFlags(true), length: 0 };
  const end = body.indexOf("\n");
  if (end < 0) return "ERR Invalid script shebang";
  const words = splitWords(body.slice(0, end));
  if (words === null || words.length === 0) return "ERR Invalid engine in script shebang";
  if (words[0] !== "#!lua") return `ERR Unexpected engine in script shebang: ${words[0]}`;
  const flags = noFlags(false);
  for (const word of words.slice(1)) {
    if (!word.startsWith("flags=")) return `ERR Unknown lua shebang option: ${word}`;
    const bad = parseFlagList(word.slice(6).split(","), flags);
    if (bad !== null) return `ERR Unexpected flag in script shebang: ${bad}`;
  }
  return { flags, length: end };
}

/** A library's shebang: its engine and name, or an error text. */
export function libraryShebang(code: string): { engine: string; name: string } | string {
  if (!code.startsWith("#!")) return "ERR Missing library metadata";
  const end = code.indexOf("\n");
  if (end < 0) return "ERR Invalid library metadata";
  const words = splitWords(code.slice(0, end));
  if (words === null || words.length === 0) return "ERR Invalid library metadata";
  let name: string | null = null;
  for (const word of words.slice(1)) {
    if (word.slice(0, 5).toLowerCase() === "name=") {
      if (name !== null) return "ERR Invalid metadata value, name argument was given multiple times";
      name = word.slice(5);
      continue;
    }
    return `ERR Invalid metadata value given: ${word}`;
  }
  if (name === null) return "ERR Library name was not given";
  return { engine: words[0].slice(2), name };
}
