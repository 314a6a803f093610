#!/bin/sh
# Regenerates the golden FlatBuffers frames the Rust reader is tested against
# (crates/hyperlight-guest/src/wire/golden/*.bin) from their JSON, using the
# official flatc. Run from anywhere; needs flatc on PATH.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
schema=$(cd "$here/../../schema" && pwd)
golden="$here/crates/hyperlight-guest/src/wire/golden"
for json in "$golden"/*.json; do
  case $(basename "$json") in
    call_*) fbs=function_call.fbs ;;
    result_*) fbs=function_call_result.fbs ;;
    *) echo "no schema for $json" >&2; exit 1 ;;
  esac
  flatc -b --size-prefixed -o "$golden" "$schema/$fbs" "$json"
done
