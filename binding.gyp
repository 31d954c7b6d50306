{
  "targets": [
    {
      "target_name": "cm3leon_native",
      "sources": [
        "native/addon.cc",
        "native/addon-args.cc",
        "native/addon-ops.cc",
        "native/attention.cc",
        "native/conv.cc",
        "native/cpu-features.cc",
        "native/gemm.cc",
        "native/gemm-scalar.cc",
        "native/isa-scalar.cc",
        "native/ops.cc",
        "native/thread-pool.cc"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O3", "-fno-math-errno", "-fvisibility=hidden"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=gnu++17", "-fexceptions"],
      "conditions": [
        ["target_arch=='x64'", {
          "sources": [
            "native/gemm-avx2.cc",
            "native/gemm-avx512.cc",
            "native/isa-avx2.cc",
            "native/isa-avx512.cc"
          ]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "OTHER_CFLAGS": ["-O3", "-fno-math-errno"]
          }
        }]
      ]
    }
  ]
}
