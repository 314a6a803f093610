#!/usr/bin/env bash
# Builds and runs examples/hello-world. Without a usable /dev/kvm on this
# machine, runs it inside the nested-KVM QEMU VM of tools/kvm-vm instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1
pnpm exec turbo run build --filter=@hyperlight-ts/example-hello-world...
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  exec pnpm --filter @hyperlight-ts/example-hello-world start
fi
echo "no usable /dev/kvm here: running the demo inside a QEMU VM with nested KVM (tools/kvm-vm; slow)" >&2
exec tools/kvm-vm/run.sh --cwd examples/hello-world -- pnpm start
