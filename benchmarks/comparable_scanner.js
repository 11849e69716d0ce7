// The comparable scanner that issue 2 measures forewarn against: the Node.js log scanner of seed 003
// §12, reduced to its read path. It streams each *.jsonl file, runs a regex pre-filter on every line,
// JSON.parses the lines that pass, and looks for #lesson blocks in their text. No failure detection,
// no pairing, no store: only the work every scanner of these logs has to do.
//
//     node benchmarks/comparable_scanner.js DIR [--tuned]
//
// By default it follows the seed's design (fs.createReadStream → readline → regex → JSON.parse).
// With --tuned it reads 1 MB at a time and splits and pre-filters the raw bytes itself, which is
// 2-3× faster: the fastest version of that design we could write. Prints lines, parsed, lessons.
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");

const LESSON = /#lesson\n([\s\S]*?)#\/lesson/g;
// Claude Code keeps tool calls and text in "assistant" records; Codex CLI in "response_item" ones.
const PREFILTER = /"type":"(?:assistant|response_item)"/;
const PREFILTER_BYTES = [Buffer.from('"type":"assistant"'), Buffer.from('"type":"response_item"')];

function* sessionFiles(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sessionFiles(p);
    else if (entry.name.endsWith(".jsonl")) yield p;
  }
}

function lessonsIn(record) {
  const content = (record.message && record.message.content) || (record.payload && record.payload.content);
  let found = 0;
  if (!Array.isArray(content)) return 0;
  for (const block of content) {
    const text = block && (block.text || block.content);
    if (typeof text === "string" && text.includes("#lesson")) found += [...text.matchAll(LESSON)].length;
  }
  return found;
}

async function seedDesign(dir, counts) {
  for (const file of sessionFiles(dir)) {
    const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      counts.lines++;
      if (!PREFILTER.test(line)) continue;
      let record;
      try {
        record = JSON.parse(line);
      } catch {
        continue;
      }
      counts.parsed++;
      counts.lessons += lessonsIn(record);
    }
  }
}

function tuned(dir, counts) {
  for (const file of sessionFiles(dir)) {
    const fd = fs.openSync(file, "r");
    let buf = Buffer.alloc(1 << 20);
    let have = 0;
    for (;;) {
      if (have === buf.length) {  // one line longer than the buffer: grow it
        const bigger = Buffer.alloc(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, have, buf.length - have, null);
      const end = have + n;
      let at = 0;
      let nl;
      while ((nl = buf.indexOf(10, at)) !== -1 && nl < end) {
        const line = buf.subarray(at, nl);
        at = nl + 1;
        counts.lines++;
        if (line.indexOf(PREFILTER_BYTES[0]) === -1 && line.indexOf(PREFILTER_BYTES[1]) === -1) continue;
        let record;
        try {
          record = JSON.parse(line.toString("utf8"));
        } catch {
          continue;
        }
        counts.parsed++;
        counts.lessons += lessonsIn(record);
      }
      buf.copy(buf, 0, at, end);
      have = end - at;
      if (n === 0) break;
    }
    fs.closeSync(fd);
  }
}

async function main() {
  const dir = process.argv[2];
  const counts = { lines: 0, parsed: 0, lessons: 0 };
  if (process.argv.includes("--tuned")) tuned(dir, counts);
  else await seedDesign(dir, counts);
  console.log(JSON.stringify(counts));
}

main();
