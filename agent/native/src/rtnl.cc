// rtnlSocket(): an rtnetlink socket whose requests are sent, and whose acks
// are waited for, on libuv's thread pool, one job at a time.
//
// Why: deleting a veth makes the kernel wait for the device's teardown
// (≈ 15–20 ms) inside the request, before it acks. The `netlink` package
// sends and waits on the calling thread, knitd's only JS thread; a second V8
// isolate (a worker thread) to wait there costs ≈ 13 MiB. A pool job costs a
// pool thread for the wait and nothing after.
//
// Which namespace: a netlink socket acts in the namespace it was created in,
// whichever thread later sends on it (pool threads may even sit in another
// namespace: they inherit the one of the thread that started the pool). So
// the socket is made here, on the calling (main) thread, when asked, and the
// caller asks outside any setns window.
//
// What it sends: complete request messages built in TypeScript (pure,
// byte-tested there). Each must ask for an ack (NLM_F_ACK) and not be a GET:
// the job sends them in order, one at a time, and for each waits for the
// NLMSG_ERROR carrying its sequence number (error 0 is the ack), so one
// request's ack is never taken for another's. It resolves with one errno per
// request (0: done), and rejects only when the socket itself failed (send or
// receive errors, a reply that does not parse), with errno, code, syscall.
//
// One job at a time per socket: two jobs would read each other's acks on two
// pool threads. A second transact() while one runs throws EBUSY (callers
// queue); close() during a job closes the socket when the job has finished.
#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/netlink.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

// An Error with errno, code and syscall, like the rest of the addon's (netns.cc).
Napi::Error KnitErrnoError(Napi::Env env, int err, const std::string& syscall, const std::string& what);

namespace {

// Largest reply read: an NLMSG_ERROR echoing one of our requests (tens of
// bytes) fits many times over; a larger datagram is reported, not cut.
constexpr size_t kRecvBuf = 32768;

class RtnlSocket : public Napi::ObjectWrap<RtnlSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RtnlSocket", {
        InstanceMethod("transact", &RtnlSocket::Transact),
        InstanceMethod("close", &RtnlSocket::Close),
        InstanceAccessor("port", &RtnlSocket::Port, nullptr),
    });
  }

  // Only rtnlSocket() makes these, with a socket it just opened: (fd, port).
  explicit RtnlSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RtnlSocket>(info) {
    if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
      throw Napi::TypeError::New(info.Env(), "RtnlSocket: made by rtnlSocket() only");
    }
    fd_ = info[0].As<Napi::Number>().Int32Value();
    port_ = info[1].As<Napi::Number>().Uint32Value();
  }

  ~RtnlSocket() override {
    if (fd_ >= 0) ::close(fd_);  // collected without close(): no job holds it (a job keeps it referenced)
  }

  int fd() const { return fd_; }
  uint32_t port() const { return port_; }

  // Sequence numbers for `n` requests: taken on the main thread, so two
  // jobs (one after the other) never reuse one while a stale ack may linger.
  uint32_t TakeSeqs(uint32_t n) {
    uint32_t first = nextSeq_;
    nextSeq_ += n;
    return first;
  }

  // Called on the main thread when a job has finished (OnOK/OnError).
  void JobDone() {
    busy_ = false;
    if (closeWhenIdle_) CloseNow();
  }

 private:
  Napi::Value Transact(const Napi::CallbackInfo& info);

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (busy_) closeWhenIdle_ = true;  // the running job still uses fd_
    else CloseNow();
    return info.Env().Undefined();
  }

  Napi::Value Port(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), port_); }

  void CloseNow() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    closeWhenIdle_ = false;
  }

  int fd_ = -1;
  uint32_t port_ = 0;
  uint32_t nextSeq_ = 1;
  bool busy_ = false;
  bool closeWhenIdle_ = false;
};

class TransactJob : public Napi::AsyncWorker {
 public:
  TransactJob(Napi::Env env, RtnlSocket* sock, Napi::Object self, std::vector<std::vector<uint8_t>> msgs)
      : Napi::AsyncWorker(env, "knit:rtnlTransact"),
        deferred_(Napi::Promise::Deferred::New(env)),
        sock_(sock),
        self_(Napi::Persistent(self)),  // keeps the socket object alive while the job runs
        fd_(sock->fd()),
        port_(sock->port()),
        firstSeq_(sock->TakeSeqs(static_cast<uint32_t>(msgs.size()))),
        msgs_(std::move(msgs)),
        errnos_(msgs_.size(), 0) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  // Pool thread: no JS, no N-API; only fd_, msgs_ and errnos_.
  void Execute() override {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
    std::vector<uint8_t> buf(kRecvBuf);
    for (size_t i = 0; i < msgs_.size(); i++) {
      std::vector<uint8_t>& m = msgs_[i];
      auto* h = reinterpret_cast<nlmsghdr*>(m.data());
      h->nlmsg_seq = firstSeq_ + static_cast<uint32_t>(i);
      h->nlmsg_pid = 0;  // the kernel fills in our port
      ssize_t n;
      do n = sendto(fd_, m.data(), m.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
      while (n < 0 && errno == EINTR);
      if (n < 0) {
        Fail(errno, "sendto");
        return;
      }
      if (static_cast<size_t>(n) != m.size()) {  // a datagram goes whole or not at all
        Fail(EMSGSIZE, "sendto");
        return;
      }
      int err = 0;
      if (!AwaitAck(h->nlmsg_seq, buf, &err)) return;
      errnos_[i] = err;
    }
  }

  void OnOK() override {
    sock_->JobDone();
    Napi::Env env = Env();
    Napi::Array out = Napi::Array::New(env, errnos_.size());
    for (size_t i = 0; i < errnos_.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, errnos_[i]));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error&) override {
    sock_->JobDone();
    deferred_.Reject(KnitErrnoError(Env(), errno_, syscall_, "rtnetlink socket port " + std::to_string(port_)).Value());
  }

 private:
  // Reads until the NLMSG_ERROR for `seq` arrives; its (positive) errno into
  // *err. Anything else (a late ack of a request an earlier job gave up on)
  // is skipped. False after Fail().
  bool AwaitAck(uint32_t seq, std::vector<uint8_t>& buf, int* err) {
    for (;;) {
      iovec iov{buf.data(), buf.size()};
      sockaddr_nl from{};
      msghdr mh{};
      mh.msg_name = &from;
      mh.msg_namelen = sizeof(from);
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      ssize_t n;
      do n = recvmsg(fd_, &mh, 0);
      while (n < 0 && errno == EINTR);
      if (n < 0) return Fail(errno, "recvmsg");
      if (mh.msg_flags & MSG_TRUNC) return Fail(EMSGSIZE, "recvmsg");  // bigger than buf: never an ack of ours
      if (from.nl_pid != 0) continue;  // not from the kernel
      // The NLMSG_ macros count in int: a size_t would wrap below zero.
      int left = static_cast<int>(n);
      auto* h = reinterpret_cast<nlmsghdr*>(buf.data());
      // NLMSG_OK: a whole header, and an nlmsg_len from a header's size up to what is left.
      for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        if (h->nlmsg_seq != seq || h->nlmsg_pid != port_) continue;
        if (h->nlmsg_type != NLMSG_ERROR) continue;  // we ask for no data (no NLM_F_ECHO)
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(int))) return Fail(EBADMSG, "recvmsg");
        // struct nlmsgerr starts with `int error`: 0 for the ack, -errno for a refusal.
        int e = *reinterpret_cast<const int*>(NLMSG_DATA(h));
        *err = e < 0 ? -e : e;
        return true;
      }
      if (left > 0) return Fail(EBADMSG, "recvmsg");  // bytes that are not a whole message: a short read
    }
  }

  bool Fail(int err, const char* syscall) {
    errno_ = err;
    syscall_ = syscall;
    SetError(syscall);  // the message OnError builds from errno_ and syscall_
    return false;
  }

  Napi::Promise::Deferred deferred_;
  RtnlSocket* sock_;
  Napi::ObjectReference self_;
  const int fd_;
  const uint32_t port_;
  const uint32_t firstSeq_;
  std::vector<std::vector<uint8_t>> msgs_;
  std::vector<int> errnos_;
  int errno_ = 0;
  std::string syscall_;
};

// transact(requests: Buffer[]): Promise<number[]>. Each Buffer holds exactly
// one request message asking for an ack; sequence number and port are
// filled in here.
Napi::Value RtnlSocket::Transact(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsArray()) {
    Napi::TypeError::New(env, "transact(requests: Buffer[])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array arr = info[0].As<Napi::Array>();
  const uint32_t count = arr.Length();
  if (count == 0 || count > 4096) {
    Napi::RangeError::New(env, "transact: 1..4096 requests").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<std::vector<uint8_t>> msgs;
  msgs.reserve(count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsBuffer()) {
      Napi::TypeError::New(env, "transact: requests must be Buffers").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Buffer<uint8_t> b = v.As<Napi::Buffer<uint8_t>>();
    nlmsghdr h{};
    if (b.Length() >= sizeof(h)) std::memcpy(&h, b.Data(), sizeof(h));
    // One whole message per Buffer, a request that wants its ack, and not a
    // RTM_GET* (rtnetlink types come in fours from RTM_BASE 16: NEW, DEL,
    // GET, SET), whose answer is data, or a dump's many parts: otherwise
    // AwaitAck would wait for an ack that never comes, or drop the answer.
    if (b.Length() < NLMSG_HDRLEN || b.Length() > 65536 || h.nlmsg_len != b.Length() ||
        (h.nlmsg_flags & (NLM_F_REQUEST | NLM_F_ACK)) != (NLM_F_REQUEST | NLM_F_ACK) ||
        h.nlmsg_type < NLMSG_MIN_TYPE || (h.nlmsg_type & 3) == 2) {
      Napi::TypeError::New(env, "transact: request " + std::to_string(i) +
                                    " is not one rtnetlink NEW, DEL or SET message with NLM_F_ACK")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    msgs.emplace_back(b.Data(), b.Data() + b.Length());  // a copy: JS may reuse the Buffer meanwhile
  }
  if (fd_ < 0 || closeWhenIdle_) {
    KnitErrnoError(env, EBADF, "transact", "on a closed socket").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (busy_) {
    KnitErrnoError(env, EBUSY, "transact", "while a job runs on the socket").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* job = new TransactJob(env, this, info.This().As<Napi::Object>(), std::move(msgs));
  busy_ = true;
  Napi::Promise p = job->Promise();
  job->Queue();
  return p;
}

// rtnlSocket(): a NETLINK_ROUTE socket in the calling thread's namespace.
Napi::Value RtnlSocketFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 0) {
    Napi::TypeError::New(env, "rtnlSocket()").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Blocking (the pool thread waits in recvmsg); CLOEXEC (no child inherits it).
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    KnitErrnoError(env, errno, "socket", "NETLINK_ROUTE").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;  // nl_pid 0: the kernel picks a unique port; no multicast groups
  socklen_t len = sizeof(local);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    int e = errno;
    ::close(fd);
    KnitErrnoError(env, e, "bind", "NETLINK_ROUTE").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Acks without a copy of the request (smaller replies); optional (Linux 4.3+).
  int one = 1;
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  auto* ctor = env.GetInstanceData<Napi::FunctionReference>();
  return ctor->New({Napi::Number::New(env, fd), Napi::Number::New(env, local.nl_pid)});
}

}  // namespace

void InitRtnl(Napi::Env env, Napi::Object exports) {
  // The class itself is not exported: only rtnlSocket() makes instances.
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(RtnlSocket::Define(env))));
  exports.Set("rtnlSocket", Napi::Function::New(env, RtnlSocketFn, "rtnlSocket"));
}
