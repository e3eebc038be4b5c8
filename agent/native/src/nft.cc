// knit_nft: nftables commands run inside knitd instead of in an `nft`
// process. It calls libnftables (the library the nft binary itself is a thin
// front end of), so a command means the same here as with `nft -f -`: one
// buffer, parsed and committed as one kernel transaction, with nft's own
// error text.
//
// Why: starting `nft` costs 5-40 ms of fork, exec and dynamic linking per
// command on a 2-core node, far more than the command itself (a policy
// difference of a few elements commits in under 1 ms in-process). knitd
// writes nftables on every policy change, port mapping and network change.
//
// Why dlopen: only libnftables.so.1 (which the nftables package installs
// with nft) is needed at run time, not its development package; when it is
// missing, knitd falls back to the nft binary.
//
// Why a worker thread and setns: a command on a large interval set can take
// tens of milliseconds (nft reads the set's elements to check overlaps), so
// it runs on libuv's thread pool, not the event loop. setns(2) is per
// thread; the worker enters the namespace the main thread had when the addon
// loaded, so the command always lands in knitd's own namespace.

#include <napi.h>

#include <cerrno>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <string>
#include <unistd.h>

namespace {

struct nft_ctx;
constexpr unsigned kOutputJson = 1u << 4;  // NFT_CTX_OUTPUT_JSON in libnftables.h

struct Lib {
  nft_ctx* (*ctx_new)(uint32_t) = nullptr;
  int (*buffer_output)(nft_ctx*) = nullptr;
  int (*buffer_error)(nft_ctx*) = nullptr;
  const char* (*get_output)(nft_ctx*) = nullptr;
  const char* (*get_error)(nft_ctx*) = nullptr;
  void (*set_output_flags)(nft_ctx*, unsigned) = nullptr;
  int (*run_buffer)(nft_ctx*, const char*) = nullptr;
};

Lib g_lib;
std::string g_loadError;  // empty when g_lib is usable
int g_nsFd = -1;          // the loading thread's netns
// One context for the life of the process, used by one command at a time
// (the JS side queues them). Kept because nft then rereads less of the
// kernel's table per command: a fresh context per command made deleting an
// element from a table of 1000 endpoints under 100 policies 20 ms, a kept
// one 5 ms. A table changed by someone else is noticed by nft (its cache
// is checked against the kernel's ruleset generation).
nft_ctx* g_ctx = nullptr;

template <typename F>
bool Sym(void* h, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(h, name));
  if (out == nullptr) g_loadError = std::string("libnftables.so.1 lacks ") + name;
  return out != nullptr;
}

void LoadOnce() {
  void* h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* e = dlerror();
    g_loadError = e != nullptr ? e : "dlopen libnftables.so.1 failed";
    return;
  }
  if (!Sym(h, "nft_ctx_new", g_lib.ctx_new) ||
      !Sym(h, "nft_ctx_buffer_output", g_lib.buffer_output) || !Sym(h, "nft_ctx_buffer_error", g_lib.buffer_error) ||
      !Sym(h, "nft_ctx_get_output_buffer", g_lib.get_output) || !Sym(h, "nft_ctx_get_error_buffer", g_lib.get_error) ||
      !Sym(h, "nft_ctx_output_set_flags", g_lib.set_output_flags) || !Sym(h, "nft_run_cmd_from_buffer", g_lib.run_buffer)) {
    dlclose(h);
    return;
  }
  g_nsFd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (g_nsFd < 0) g_loadError = std::string("open /proc/thread-self/ns/net: ") + std::strerror(errno);
}

class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::string script, bool json)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), script_(std::move(script)), json_(json) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    if (setns(g_nsFd, CLONE_NEWNET) != 0) {
      code_ = -1;
      err_ = std::string("setns into knitd's namespace: ") + std::strerror(errno);
      return;
    }
    if (g_ctx == nullptr) {
      g_ctx = g_lib.ctx_new(0);
      if (g_ctx == nullptr) {
        code_ = -1;
        err_ = "nft_ctx_new failed";
        return;
      }
      g_lib.buffer_output(g_ctx);
      g_lib.buffer_error(g_ctx);
    }
    g_lib.set_output_flags(g_ctx, json_ ? kOutputJson : 0);
    code_ = g_lib.run_buffer(g_ctx, script_.c_str()) == 0 ? 0 : 1;
    // Reading a buffer also empties it for the next command.
    const char* out = g_lib.get_output(g_ctx);
    const char* err = g_lib.get_error(g_ctx);
    out_ = out != nullptr ? out : "";
    err_ = err != nullptr ? err : "";
    // nft's work on a large table is freed into this pool thread's malloc
    // arena, which glibc keeps otherwise: ~30 MiB more RSS with a table of
    // 1000 endpoints under 100 policies.
    malloc_trim(0);
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object r = Napi::Object::New(env);
    r.Set("code", Napi::Number::New(env, code_));
    r.Set("stdout", Napi::String::New(env, out_));
    r.Set("stderr", Napi::String::New(env, err_));
    deferred_.Resolve(r);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string script_;
  bool json_;
  int code_ = -1;
  std::string out_;
  std::string err_;
};

// available(): null when commands can run in-process, else why not.
Napi::Value Available(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_loadError.empty()) return env.Null();
  return Napi::String::New(env, g_loadError);
}

// run(script, json): Promise<{code, stdout, stderr}>; code 0 on success, 1 when nft refused, -1 when it could not run.
Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsString() || !info[1].IsBoolean()) {
    Napi::TypeError::New(env, "run(script: string, json: boolean)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!g_loadError.empty()) {
    Napi::Error::New(env, "libnftables not usable: " + g_loadError).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* w = new RunWorker(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Boolean>().Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  LoadOnce();
  exports.Set("available", Napi::Function::New(env, Available, "available"));
  exports.Set("run", Napi::Function::New(env, Run, "run"));
  return exports;
}

}  // namespace

NODE_API_MODULE(knit_nft, Init)
