{
  "targets": [
    {
      "target_name": "hyperlight_kvm",
      "sources": [
        "src/native/addon.cc",
        "src/native/convert.cc",
        "src/native/event_channel.cc",
        "src/native/guest_memory.cc",
        "src/native/kick_signal.cc",
        "src/native/kvm.cc",
        "src/native/memory_image.cc",
        "src/native/run_control.cc",
        "src/native/snapshot_memory.cc",
        "src/native/throw.cc",
        "src/native/vcpu_fd.cc",
        "src/native/vcpu_thread.cc",
        "src/native/vm_fd.cc",
        "src/native/watchdog.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
    }
  ]
}
