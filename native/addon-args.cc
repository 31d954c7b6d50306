// Argument helpers of the N-API glue (see addon-args.h).
#include "addon-args.h"

#include <math.h>
#include <stdio.h>

namespace cm3 {

Args::Args(napi_env e, napi_callback_info info, const char* name, size_t want) : env(e), fn(name), argc(24) {
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) type_error("bad call");
  if (argc < want) type_error("expected " + std::to_string(want) + " arguments, got " + std::to_string(argc));
}

static std::string arg_name(int i, const char* name) { return "argument " + std::to_string(i) + " (" + name + ")"; }

F32 Args::f32(int i, const char* name) {
  bool is = false;
  napi_is_typedarray(env, argv[i], &is);
  napi_typedarray_type t;
  size_t len = 0;
  void* data = nullptr;
  if (!is || napi_get_typedarray_info(env, argv[i], &t, &len, &data, nullptr, nullptr) != napi_ok ||
      t != napi_float32_array)
    type_error(arg_name(i, name) + " must be a Float32Array");
  return F32{(float*)data, (double)len};
}

I32 Args::i32(int i, const char* name) {
  bool is = false;
  napi_is_typedarray(env, argv[i], &is);
  napi_typedarray_type t;
  size_t len = 0;
  void* data = nullptr;
  if (!is || napi_get_typedarray_info(env, argv[i], &t, &len, &data, nullptr, nullptr) != napi_ok ||
      t != napi_int32_array)
    type_error(arg_name(i, name) + " must be an Int32Array");
  return I32{(int32_t*)data, (double)len};
}

double Args::number(int i, const char* name) {
  double v;
  if (napi_get_value_double(env, argv[i], &v) != napi_ok) type_error(arg_name(i, name) + " must be a number");
  return v;
}

long Args::integer(int i, const char* name, double lo, double hi) {
  double v = number(i, name);
  if (!(v == floor(v)) || !isfinite(v)) type_error(arg_name(i, name) + " must be an integer");
  if (v < lo || v > hi) {
    char buf[160];
    snprintf(buf, sizeof buf, " = %.17g is out of range [%.17g, %.17g]", v, lo, hi);
    range_error(arg_name(i, name) + buf);
  }
  return (long)v;
}

bool Args::boolean(int i, const char* name) {
  bool v;
  if (napi_get_value_bool(env, argv[i], &v) != napi_ok) type_error(arg_name(i, name) + " must be a boolean");
  return v;
}

void Args::strides3(int i, const char* name, long out[3]) {
  bool is = false;
  uint32_t n = 0;
  napi_is_array(env, argv[i], &is);
  if (!is || napi_get_array_length(env, argv[i], &n) != napi_ok || n != 3)
    type_error(arg_name(i, name) + " must be an array of 3 integers");
  for (uint32_t j = 0; j < 3; j++) {
    napi_value e;
    double v;
    if (napi_get_element(env, argv[i], j, &e) != napi_ok || napi_get_value_double(env, e, &v) != napi_ok ||
        !(v == floor(v)) || !isfinite(v))
      type_error(arg_name(i, name) + " must be an array of 3 integers");
    if (v < 0 || v > 9007199254740991.0) range_error(arg_name(i, name) + " strides must be non-negative");
    out[j] = (long)v;
  }
}

void Args::range(const char* name, double len, double off, double count) const {
  if (count <= 0) return;
  if (off < 0 || off + count > len) {
    char buf[200];
    snprintf(buf, sizeof buf, "%s: elements [%.17g, %.17g) are outside the array of length %.17g", name, off,
             off + count, len);
    range_error(buf);
  }
}

napi_value make_number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

napi_value make_undefined(napi_env env) {
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

void throw_js(napi_env env, const JsError& e) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  if (e.range) napi_throw_range_error(env, nullptr, e.msg.c_str());
  else napi_throw_type_error(env, nullptr, e.msg.c_str());
}

}  // namespace cm3
