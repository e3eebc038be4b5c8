// durableReplace(temp, file, data, mode): the durable replacement of one small
// state file as a single job on libuv's thread pool: write `data` to `temp`
// (created with `mode`, the umask applies), fsync it, close it, rename it over
// `file`, then fsync the directory so the rename itself survives a power cut.
// The same steps through fs/promises are eight thread-pool round trips, each
// resumed on the main thread; a CNI ADD writes two such files, a DEL two more.
// On failure `temp` is removed and the error carries errno, code, syscall and
// the path it was about (the directory for its fsync).
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

const char* KnitErrnoCode(int err);  // netns.cc

namespace {

class DurableReplace : public Napi::AsyncWorker {
 public:
  DurableReplace(Napi::Env env, std::string temp, std::string file, std::string dir, std::string data, mode_t mode)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        temp_(std::move(temp)), file_(std::move(file)), dir_(std::move(dir)), data_(std::move(data)), mode_(mode) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    int fd = open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_);
    if (fd < 0) return Fail(errno, "open", temp_, false);
    size_t off = 0;
    while (off < data_.size()) {
      ssize_t n = write(fd, data_.data() + off, data_.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int e = errno;
        close(fd);
        return Fail(e, "write", temp_, true);
      }
      off += static_cast<size_t>(n);
    }
    if (fsync(fd) != 0) {
      int e = errno;
      close(fd);
      return Fail(e, "fsync", temp_, true);
    }
    if (close(fd) != 0) return Fail(errno, "close", temp_, true);
    if (rename(temp_.c_str(), file_.c_str()) != 0) return Fail(errno, "rename", file_, true);
    int dfd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return Fail(errno, "open", dir_, false);
    if (fsync(dfd) != 0) {
      int e = errno;
      close(dfd);
      return Fail(e, "fsync", dir_, false);
    }
    close(dfd);
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

  void OnError(const Napi::Error& err) override {
    Napi::Env env = Env();
    Napi::Error e = Napi::Error::New(env, err.Message());
    e.Set("errno", Napi::Number::New(env, errno_));
    e.Set("code", Napi::String::New(env, KnitErrnoCode(errno_)));
    e.Set("syscall", Napi::String::New(env, syscall_));
    e.Set("path", Napi::String::New(env, path_));
    deferred_.Reject(e.Value());
  }

 private:
  void Fail(int err, const char* syscall, const std::string& path, bool removeTemp) {
    if (removeTemp) unlink(temp_.c_str());
    errno_ = err;
    syscall_ = syscall;
    path_ = path;
    SetError(std::string(KnitErrnoCode(err)) + ": " + strerror(err) + ", " + syscall + " '" + path + "'");
  }

  Napi::Promise::Deferred deferred_;
  std::string temp_, file_, dir_, data_;
  mode_t mode_;
  int errno_ = 0;
  std::string syscall_, path_;
};

Napi::Value DurableReplaceFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5 || !info[0].IsString() || !info[1].IsString() || !info[2].IsString() || !info[3].IsString() ||
      !info[4].IsNumber()) {
    Napi::TypeError::New(env, "durableReplace(temp: string, file: string, dir: string, data: string, mode: number)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* w = new DurableReplace(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::String>().Utf8Value(),
                               info[2].As<Napi::String>().Utf8Value(), info[3].As<Napi::String>().Utf8Value(),
                               static_cast<mode_t>(info[4].As<Napi::Number>().Uint32Value() & 07777));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void InitDurable(Napi::Env env, Napi::Object exports) {
  exports.Set("durableReplace", Napi::Function::New(env, DurableReplaceFn, "durableReplace"));
}
