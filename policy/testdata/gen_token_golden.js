// Computes golden token ids with Hugging Face tokenizers (see
// gen_token_golden.sh, which runs this).
// Usage: node gen_token_golden.js 20B_tokenizer.json tokenizers.node out_tokenizer.json out_golden.json
"use strict";
const fs = require("fs");
const [src, binding, outTokenizer, outGolden] = process.argv.slice(2);

// DeeR (RoboFlamingo) adds these to the GPT-NeoX tokenizer with
// add_special_tokens: additional_special_tokens, then pad_token.
const added = ["<|endofchunk|>", "<image>", "<PAD>"];
const tj = JSON.parse(fs.readFileSync(src, "utf8"));
let next = Math.max(...tj.added_tokens.map((t) => t.id)) + 1;
for (const content of added) {
  tj.added_tokens.push({ id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
}
fs.writeFileSync(outTokenizer, JSON.stringify(tj));

const { Tokenizer } = require(binding);
const tok = Tokenizer.fromFile(outTokenizer);

const prompt = "<image>{instruction}<|endofchunk|><|endoftext|>";
// Python's str.strip(): str.isspace characters at both ends.
const pyStrip = (s) => s.replace(/^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g, "");

const instructions = [
  // CALVIN's task annotations (language_ann style).
  "push the blue block to the left",
  "open the drawer",
  "close the drawer",
  "lift the red block from the table",
  "lift the pink block from the sliding cabinet",
  "turn on the led",
  "turn off the lightbulb",
  "rotate the red block to the right",
  "move the slider to the left",
  "place the block in the sliding cabinet",
  "stack the blocks on top of each other",
  "take off the stacked block",
  "push the switch upwards",
  "go push the pink block into the drawer",
  "grasp the blue block and rotate it left",
  // What a robot's operator may type.
  "  Open the drawer, then push the Blue block!\n",
  "open  the   drawer",
  "\tturn on the LED light\x1c",
  "move 3 blocks 20cm to the left-hand side",
  "pick up the café's red block",
  "put the <image> block away",
  "stack the blocks on top of each other, then open the drawer and turn off the lightbulb and the led",
];

const cases = [];
(async () => {
  for (const instruction of instructions) {
    const text = prompt.replace("{instruction}", pyStrip(instruction));
    const enc = await tok.encode(text, null, { addSpecialTokens: true });
    const plain = await tok.encode(pyStrip(instruction), null, { addSpecialTokens: true });
    cases.push({ instruction, prompt_ids: enc.getIds(), plain_ids: plain.getIds() });
  }
  const golden = {
    tokenizer: "GPT-NeoX-20B tokenizer.json with DeeR's added tokens",
    computed_by: "Hugging Face tokenizers (npm @anush008/tokenizers-linux-x64-gnu@0.6.0)",
    prompt,
    cases,
  };
  // One case a line, so that a change reads well in a diff.
  const text = JSON.stringify({ ...golden, cases: [] }, null, 1).replace(
    '"cases": []',
    '"cases": [\n' + cases.map((c) => "  " + JSON.stringify(c)).join(",\n") + "\n ]",
  );
  fs.writeFileSync(outGolden, text + "\n");
})();
