// knit_netns: the smallest native piece knit needs. It moves the CALLING
// thread (the main JS thread) into another network namespace with setns(2)
// and back again, so that a netlink socket opened in between stays bound to
// that namespace. Everything else (netlink itself) lives in TypeScript.
//
// Why /proc/thread-self: setns(CLONE_NEWNET) changes only the calling
// thread's namespace. /proc/self/ns/net names the thread-group leader's
// namespace, which is not the calling thread's if this addon is ever loaded
// in a worker thread. The original namespace is opened once, at load time,
// before any switch, and kept open for the life of the process.

#include <napi.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

// thread_local: each JS thread (main or worker) that loads the addon keeps its own.
thread_local int g_origFd = -1;  // this thread's original netns, opened once

const char* ErrnoCode(int err) {
  switch (err) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ENOTDIR: return "ENOTDIR";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    default: return "EUNKNOWN";
  }
}

// Throws a JS Error carrying errno, code and syscall, naming the path.
void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& what) {
  std::string msg = std::string(syscall) + " " + what + ": " + ErrnoCode(err) + " (" + std::strerror(err) + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, ErrnoCode(err)));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("path", Napi::String::New(env, what));
  e.ThrowAsJavaScriptException();
}

// enter(path): open PATH and setns into it. Returns undefined; throws on error.
Napi::Value Enter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "enter(path: string)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ThrowErrno(env, errno, "open netns", path);
    return env.Undefined();
  }
  if (setns(fd, CLONE_NEWNET) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err, "setns", path);
    return env.Undefined();
  }
  close(fd);
  return env.Undefined();
}

// restore(): setns back into the namespace this thread had when the addon loaded.
Napi::Value Restore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (setns(g_origFd, CLONE_NEWNET) != 0) {
    ThrowErrno(env, errno, "setns", "original netns");
  }
  return env.Undefined();
}

// currentInode(): inode of the calling thread's netns (to compare with stat()).
Napi::Value CurrentInode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct stat st;
  if (stat("/proc/thread-self/ns/net", &st) != 0) {
    ThrowErrno(env, errno, "stat", "/proc/thread-self/ns/net");
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(st.st_ino));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (g_origFd < 0) {
    g_origFd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (g_origFd < 0) {
      ThrowErrno(env, errno, "open", "/proc/thread-self/ns/net");
      return exports;
    }
  }
  exports.Set("enter", Napi::Function::New(env, Enter, "enter"));
  exports.Set("restore", Napi::Function::New(env, Restore, "restore"));
  exports.Set("currentInode", Napi::Function::New(env, CurrentInode, "currentInode"));
  return exports;
}

}  // namespace

NODE_API_MODULE(knit_netns, Init)
