// Argument parsing and validation for the N-API functions. Errors are thrown as JsError (C++) and
// turned into a JS TypeError / RangeError that names the function by the CM3_NAPI wrapper.
#pragma once
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <stdint.h>

#include <new>
#include <string>

namespace cm3 {

struct JsError {
  bool range;  // RangeError, else TypeError
  std::string msg;
};

struct F32 {
  float* p;
  double len;
};
struct I32 {
  int32_t* p;
  double len;
};

class Args {
 public:
  Args(napi_env env, napi_callback_info info, const char* fn, size_t want);
  F32 f32(int i, const char* name);
  I32 i32(int i, const char* name);
  // Integer in [lo, hi] (default: non-negative, below 2^53).
  long integer(int i, const char* name, double lo = 0, double hi = 9007199254740991.0);
  double number(int i, const char* name);
  bool boolean(int i, const char* name);
  // A JS array of 3 non-negative integers.
  void strides3(int i, const char* name, long out[3]);

  [[noreturn]] void type_error(const std::string& msg) const { throw JsError{false, std::string(fn) + ": " + msg}; }
  [[noreturn]] void range_error(const std::string& msg) const { throw JsError{true, std::string(fn) + ": " + msg}; }
  // Elements [off, off + count) must lie inside the array (count <= 0 touches nothing).
  void range(const char* name, double len, double off, double count) const;

  napi_env env;
  const char* fn;
  napi_value argv[24];
  size_t argc;
};

napi_value make_number(napi_env env, double v);
napi_value make_undefined(napi_env env);
void throw_js(napi_env env, const JsError& e);

}  // namespace cm3

// Defines `napi_value name(napi_env, napi_callback_info)` for the JS function `jsname`; its body is
// the following block, run with `Args a` already checked to have `nargs` arguments. C++ errors
// become JS exceptions.
#define CM3_NAPI(name, jsname, nargs)                                                 \
  static napi_value name##_impl(cm3::Args& a);                                        \
  static napi_value name(napi_env env, napi_callback_info info) {                     \
    try {                                                                             \
      cm3::Args a(env, info, jsname, nargs);                                          \
      return name##_impl(a);                                                          \
    } catch (const cm3::JsError& e) {                                                 \
      cm3::throw_js(env, e);                                                          \
    } catch (const std::bad_alloc&) {                                                 \
      cm3::throw_js(env, cm3::JsError{true, std::string(jsname) + ": out of memory"}); \
    }                                                                                 \
    return nullptr;                                                                   \
  }                                                                                   \
  static napi_value name##_impl(cm3::Args& a)
