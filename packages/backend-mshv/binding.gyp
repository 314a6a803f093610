{
  "targets": [
    {
      "target_name": "hyperlight_mshv",
      "sources": [
        "<!@(node -p \"require('@hyperlight-ts/native-linux/gyp').sources.join(' ')\")",
        "src/native/addon.cc",
        "src/native/ioctl_args.cc",
        "src/native/mshv_device.cc",
        "src/native/mshv_partition.cc",
        "src/native/mshv_vp.cc",
        "src/native/testing_exports.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('@hyperlight-ts/native-linux/gyp').includeDir\")"
      ],
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
