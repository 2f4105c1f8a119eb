/*
 * fengari and the two internal modules lua.ts patches, required in this
 * fixed order: fengari's CommonJS files require each other in a cycle that
 * only resolves when its entry module loads first, and Bun does not keep
 * ESM import order for CommonJS dependencies.
 */
"use strict";
const fengari = require("fengari");
const lobject = require("fengari/src/lobject.js");
const lstring = require("fengari/src/lstring.js");
module.exports = { fengari, lobject, lstring };
