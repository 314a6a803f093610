{
  "targets": [
    {
      "target_name": "crossing_bench",
      "sources": ["crossing.cc", "../../src/native/convert.cc", "../../src/native/throw.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "../../src/native"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
    }
  ]
}
