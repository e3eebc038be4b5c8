// knit_netns: the smallest native piece knit needs. It moves the CALLING
// thread (the main JS thread) into another network namespace with setns(2)
// and back again, so that a netlink socket opened in between stays bound to
// that namespace. It also sets the TCP socket options BGP needs and Node's
// net module cannot: the IP TTL (1 for directly connected eBGP peers, 255
// for GTSM), the minimum TTL accepted (GTSM, RFC 5082: IP_MINTTL /
// IPV6_MINHOPCOUNT) and TCP-MD5 keys (RFC 2385: TCP_MD5SIG), and it makes an
// unconnected TCP socket, because an MD5 key must be on the socket before
// its SYN leaves. Netlink itself lives in TypeScript, except the wait for
// slow acks (rtnl.cc: link deletions, sent and acked on libuv's thread pool).
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
#include <vector>
#include <cstddef>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dirent.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

void InitDurable(Napi::Env env, Napi::Object exports);  // durable.cc
void InitRtnl(Napi::Env env, Napi::Object exports);     // rtnl.cc

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
    case ENOTSOCK: return "ENOTSOCK";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EEXIST: return "EEXIST";
    case EISDIR: return "EISDIR";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case EIO: return "EIO";
    case EDQUOT: return "EDQUOT";
    case EXDEV: return "EXDEV";
    // socket failures of rtnl.cc's jobs (a kernel's refusal of a request travels as a number)
    case ENODEV: return "ENODEV";
    case EBUSY: return "EBUSY";
    case ENOBUFS: return "ENOBUFS";
    case EMSGSIZE: return "EMSGSIZE";
    case EBADMSG: return "EBADMSG";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EAGAIN: return "EAGAIN";
    default: return "EUNKNOWN";
  }
}

// A JS Error carrying errno, code and syscall: "<syscall> <what>: <code> (<strerror>)".
Napi::Error ErrnoError(Napi::Env env, int err, const std::string& syscall, const std::string& what) {
  Napi::Error e = Napi::Error::New(env, syscall + " " + what + ": " + ErrnoCode(err) + " (" + std::strerror(err) + ")");
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, ErrnoCode(err)));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

// Throws ErrnoError, naming the path.
void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& what) {
  Napi::Error e = ErrnoError(env, err, syscall, what);
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

// The socket's address family decides the option: IP_TTL for IPv4,
// IPV6_UNICAST_HOPS for IPv6 (plus IP_TTL, which v4-mapped traffic uses).
int SocketFamily(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  return ss.ss_family;
}

// A TTL-like socket option: the IPv6 option for IPv6 sockets (plus the IPv4
// one, which v4-mapped traffic on a dual-stack socket uses; ignored if
// refused), the IPv4 option otherwise.
struct TtlOption {
  const char* call;  // JS signature for the TypeError
  int v4;
  const char* v4Name;
  int v6;
  const char* v6Name;
  int min;
};

// IP_TTL / IPV6_UNICAST_HOPS: the TTL / hop limit of outgoing packets (BGP: 1
// for a directly connected eBGP peer, 255 for GTSM).
const TtlOption kTtl = {"setIpTtl(fd: number, ttl: number)", IP_TTL, "IP_TTL", IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", 1};
// IP_MINTTL / IPV6_MINHOPCOUNT: drop received packets below this TTL (GTSM:
// 255 for a directly connected peer; 0 turns it off).
const TtlOption kMinTtl = {"setMinTtl(fd: number, ttl: number)", IP_MINTTL, "IP_MINTTL", IPV6_MINHOPCOUNT, "IPV6_MINHOPCOUNT", 0};

Napi::Value SetTtlOption(const Napi::CallbackInfo& info, const TtlOption& o) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, o.call).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int ttl = info[1].As<Napi::Number>().Int32Value();
  const std::string what = "fd " + std::to_string(fd);
  if (ttl < o.min || ttl > 255) {
    Napi::RangeError::New(env, std::string(o.v4Name) + " must be " + std::to_string(o.min) + "..255").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int family = SocketFamily(fd);
  if (family < 0) {
    ThrowErrno(env, errno, "getsockname", what);
    return env.Undefined();
  }
  if (family == AF_INET6) {
    if (setsockopt(fd, IPPROTO_IPV6, o.v6, &ttl, sizeof(ttl)) != 0) {
      ThrowErrno(env, errno, (std::string("setsockopt(") + o.v6Name + ")").c_str(), what);
      return env.Undefined();
    }
    (void)setsockopt(fd, IPPROTO_IP, o.v4, &ttl, sizeof(ttl));
  } else if (setsockopt(fd, IPPROTO_IP, o.v4, &ttl, sizeof(ttl)) != 0) {
    ThrowErrno(env, errno, (std::string("setsockopt(") + o.v4Name + ")").c_str(), what);
  }
  return env.Undefined();
}

Napi::Value GetTtlOption(const Napi::CallbackInfo& info, const TtlOption& o) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "expected (fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int ttl = 0;
  socklen_t len = sizeof(ttl);
  bool v6 = SocketFamily(fd) == AF_INET6;
  if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? o.v6 : o.v4, &ttl, &len) != 0) {
    ThrowErrno(env, errno, "getsockopt", "fd " + std::to_string(fd));
    return env.Undefined();
  }
  return Napi::Number::New(env, ttl);
}

// setIpTtl(fd, ttl) / getIpTtl(fd): Node's net module has no API for it on TCP sockets.
Napi::Value SetIpTtl(const Napi::CallbackInfo& info) { return SetTtlOption(info, kTtl); }
Napi::Value GetIpTtl(const Napi::CallbackInfo& info) { return GetTtlOption(info, kTtl); }
// setMinTtl(fd, ttl) / getMinTtl(fd): GTSM (RFC 5082).
Napi::Value SetMinTtl(const Napi::CallbackInfo& info) { return SetTtlOption(info, kMinTtl); }
Napi::Value GetMinTtl(const Napi::CallbackInfo& info) { return GetTtlOption(info, kMinTtl); }

// setTcpMd5(fd, peer, key): the TCP-MD5 key (RFC 2385) for segments to and
// from `peer` (an IPv4 or IPv6 address) on this socket; an empty key removes
// it. On a listening socket it applies to the connections it will accept
// from that address. An IPv4 peer on an IPv6 socket is keyed by its
// v4-mapped address, as the kernel sees it there.
Napi::Value SetTcpMd5(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsNumber() || !info[1].IsString() || !info[2].IsBuffer()) {
    Napi::TypeError::New(env, "setTcpMd5(fd: number, peer: string, key: Buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string peer = info[1].As<Napi::String>().Utf8Value();
  Napi::Buffer<uint8_t> key = info[2].As<Napi::Buffer<uint8_t>>();
  const std::string what = "fd " + std::to_string(fd) + " peer " + peer;
  if (key.Length() > TCP_MD5SIG_MAXKEYLEN) {
    Napi::RangeError::New(env, "TCP-MD5 key longer than 80 bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int family = SocketFamily(fd);
  if (family < 0) {
    ThrowErrno(env, errno, "getsockname", what);
    return env.Undefined();
  }
  struct tcp_md5sig sig;
  std::memset(&sig, 0, sizeof(sig));
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, peer.c_str(), &v4) == 1) {
    if (family == AF_INET6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&sig.tcpm_addr);
      sa->sin6_family = AF_INET6;
      sa->sin6_addr.s6_addr[10] = 0xff;
      sa->sin6_addr.s6_addr[11] = 0xff;
      std::memcpy(&sa->sin6_addr.s6_addr[12], &v4, 4);
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(&sig.tcpm_addr);
      sa->sin_family = AF_INET;
      sa->sin_addr = v4;
    }
  } else if (inet_pton(AF_INET6, peer.c_str(), &v6) == 1 && family == AF_INET6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&sig.tcpm_addr);
    sa->sin6_family = AF_INET6;
    sa->sin6_addr = v6;
  } else {
    Napi::TypeError::New(env, "setTcpMd5: peer is not an address of the socket's family: " + peer).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sig.tcpm_keylen = static_cast<uint16_t>(key.Length());
  std::memcpy(sig.tcpm_key, key.Data(), key.Length());
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) != 0) {
    // Removing a key that is not there is not an error for the caller.
    if (!(key.Length() == 0 && errno == ENOENT)) ThrowErrno(env, errno, "setsockopt(TCP_MD5SIG)", what);
  }
  return env.Undefined();
}

// tcpSocket(family): a new, unconnected, non-blocking TCP socket (4 or 6),
// for options that must be set before connect() (TCP-MD5, minimum TTL). The
// caller hands it to node:net (new Socket({ fd })) and connects it there.
Napi::Value TcpSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "tcpSocket(family: 4 | 6)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fam = info[0].As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    ThrowErrno(env, errno, "socket", "tcp");
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// The `netlink` package gives no access to its sockets' descriptors, and it
// aborts the process when a socket reports POLLERR (its poll error path
// builds an error from a NULL string). The kernel raises POLLERR on a
// multicast socket whose receive queue overflowed (sk_err = ENOBUFS), which a
// burst of route events can cause. So knit finds the event socket's
// descriptor (netlink family, NETLINK_ROUTE, its port id, and the calling
// thread's namespace, since port ids are per namespace), turns the overflow
// error off (NETLINK_NO_ENOBUFS: a lost event is counted in sk_drops
// instead) and enlarges the queue; the drops are read with SO_MEMINFO.

// Inode of the netns a socket belongs to (SIOCGSKNS), -1 on error.
long SocketNetnsInode(int fd) {
  int nsfd = ioctl(fd, SIOCGSKNS);
  if (nsfd < 0) return -1;
  struct stat st;
  long ino = fstat(nsfd, &st) == 0 ? static_cast<long>(st.st_ino) : -1;
  close(nsfd);
  return ino;
}

// netlinkTune(port: number, rcvbuf: number): fd. Must run inside the socket's
// namespace (withNetns), right after the socket was made there.
Napi::Value NetlinkTune(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "netlinkTune(port: number, rcvbuf: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t port = info[0].As<Napi::Number>().Uint32Value();
  int rcvbuf = info[1].As<Napi::Number>().Int32Value();
  const std::string what = "netlink port " + std::to_string(port);
  struct stat own;
  if (stat("/proc/thread-self/ns/net", &own) != 0) {
    ThrowErrno(env, errno, "stat", "/proc/thread-self/ns/net");
    return env.Undefined();
  }
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    ThrowErrno(env, errno, "opendir", "/proc/self/fd");
    return env.Undefined();
  }
  int found = -1;
  int matches = 0;
  const int dirFd = dirfd(dir);
  for (struct dirent* e = readdir(dir); e != nullptr; e = readdir(dir)) {
    char* end = nullptr;
    long fd = strtol(e->d_name, &end, 10);
    if (*end != '\0' || fd == dirFd) continue;
    sockaddr_nl addr{};
    socklen_t len = sizeof(addr);
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&addr), &len) != 0) continue;
    if (addr.nl_family != AF_NETLINK || addr.nl_pid != port) continue;
    int proto = -1;
    socklen_t plen = sizeof(proto);
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_PROTOCOL, &proto, &plen) != 0 || proto != NETLINK_ROUTE) continue;
    if (SocketNetnsInode(static_cast<int>(fd)) != static_cast<long>(own.st_ino)) continue;
    found = static_cast<int>(fd);
    matches++;
  }
  closedir(dir);
  if (matches != 1) {
    ThrowErrno(env, matches == 0 ? ENOENT : EEXIST, "find socket", what);
    return env.Undefined();
  }
  int one = 1;
  if (setsockopt(found, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) != 0) {
    ThrowErrno(env, errno, "setsockopt(NETLINK_NO_ENOBUFS)", what);
    return env.Undefined();
  }
  // SO_RCVBUFFORCE passes net.core.rmem_max (root only); fall back to the capped one.
  if (setsockopt(found, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0 &&
      setsockopt(found, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0) {
    ThrowErrno(env, errno, "setsockopt(SO_RCVBUF)", what);
    return env.Undefined();
  }
  return Napi::Number::New(env, found);
}

// netlinkDrops(fd): messages the kernel dropped for this socket (sk_drops).
Napi::Value NetlinkDrops(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "netlinkDrops(fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof(mem);
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0) {
    ThrowErrno(env, errno, "getsockopt(SO_MEMINFO)", "fd " + std::to_string(fd));
    return env.Undefined();
  }
  return Napi::Number::New(env, mem[SK_MEMINFO_DROPS]);
}

// Attaches `code` as the classic BPF socket filter of `fd` (replacing any
// before it); a JS exception on failure.
void AttachFilter(Napi::Env env, int fd, std::vector<sock_filter>& code) {
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(code.size());
  prog.filter = code.data();
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0) {
    ThrowErrno(env, errno, "setsockopt(SO_ATTACH_FILTER)", "fd " + std::to_string(fd));
  }
}

// netlinkKeepTypes(fd, types): a socket filter (classic BPF) that lets the
// socket receive only netlink messages of the given nlmsg_type values. An
// event socket that waits for one kind of notification (RTM_DELLINK) is then
// not woken, and nothing is read or decoded, for every other event of its
// multicast group (each container's veth brings about ten link events). Every
// notification travels in an skb of its own, so testing the first header
// tests the message. BPF_LD|BPF_H|BPF_ABS loads in network byte order, while
// the header is in host order: the constants are compared byte-swapped.
Napi::Value NetlinkKeepTypes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsArray()) {
    Napi::TypeError::New(env, "netlinkKeepTypes(fd: number, types: number[])").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Array types = info[1].As<Napi::Array>();
  const uint32_t n = types.Length();
  if (n == 0 || n > 32) {
    Napi::RangeError::New(env, "netlinkKeepTypes: 1..32 message types").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<sock_filter> code;
  code.push_back(BPF_STMT(BPF_LD | BPF_H | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_type)));
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = types.Get(i);
    if (!v.IsNumber()) {
      Napi::TypeError::New(env, "netlinkKeepTypes: types must be numbers").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    uint32_t t = v.As<Napi::Number>().Uint32Value();
    if (t > 0xffff) {
      Napi::RangeError::New(env, "netlinkKeepTypes: a message type is 16 bits").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    // equal: jump to the accept at the end (n - 1 - i compares and the reject lie between)
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htons(static_cast<uint16_t>(t)), static_cast<uint8_t>(n - i), 0));
  }
  code.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
  code.push_back(BPF_STMT(BPF_RET | BPF_K, 0xffffffff));
  AttachFilter(env, fd, code);
  return env.Undefined();
}

// netlinkKeepScoped(fd, indexes, table): a socket filter for an event socket
// that cares about a few devices and one routing table (a network's
// reconciler). Link and neighbour messages (RTM_NEWLINK, RTM_DELLINK,
// RTM_NEWNEIGH, RTM_DELNEIGH; FDB entries are AF_BRIDGE neighbour messages)
// pass only when their ifindex is one of `indexes`; route messages
// (RTM_NEWROUTE, RTM_DELROUTE) only when their rtm_table is `table`; every
// other message passes. A container's veth alone brings about twenty such
// events to the node (its link changes, the bridge's, FDB and neighbour
// entries, IPv6 link-local routes), none of them about a backend device or
// the main table's routes. The ifindex of both ifinfomsg and ndmsg, and
// rtm_table, lie right after the 16-byte header: ifi_index at offset 20 (4
// bytes, host order, compared byte-swapped as in netlinkKeepTypes), rtm_table
// the byte at offset 20.
Napi::Value NetlinkKeepScoped(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsNumber() || !info[1].IsArray() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "netlinkKeepScoped(fd: number, indexes: number[], table: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Array list = info[1].As<Napi::Array>();
  const uint32_t n = list.Length();
  // jump offsets are 8 bits: the index compares must stay within reach of the accept
  if (n > 64) {
    Napi::RangeError::New(env, "netlinkKeepScoped: at most 64 device indexes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<uint32_t> indexes;
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 1 || v.As<Napi::Number>().DoubleValue() > 0x7fffffff) {
      Napi::RangeError::New(env, "netlinkKeepScoped: device indexes are integers 1..2^31-1").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    indexes.push_back(v.As<Napi::Number>().Uint32Value());
  }
  const double table = info[2].As<Napi::Number>().DoubleValue();
  if (table < 1 || table > 255) {
    Napi::RangeError::New(env, "netlinkKeepScoped: table is 1..255 (rtm_table)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const uint16_t devTypes[] = {RTM_NEWLINK, RTM_DELLINK, RTM_NEWNEIGH, RTM_DELNEIGH};
  const uint16_t routeTypes[] = {RTM_NEWROUTE, RTM_DELROUTE};
  const uint32_t bodyOffset = NLMSG_HDRLEN + 4;  // ifi_index / ndm_ifindex / rtm_table
  std::vector<sock_filter> code;
  // [0] type; [1..4] device types → DEV; [5..6] route types → ROUTE; [7] keep the rest
  code.push_back(BPF_STMT(BPF_LD | BPF_H | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_type)));
  const uint8_t devAt = 8, routeAt = static_cast<uint8_t>(devAt + 1 + n + 1);
  for (size_t i = 0; i < 4; i++) {
    const uint8_t here = static_cast<uint8_t>(1 + i);
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htons(devTypes[i]), static_cast<uint8_t>(devAt - here - 1), 0));
  }
  for (size_t i = 0; i < 2; i++) {
    const uint8_t here = static_cast<uint8_t>(5 + i);
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htons(routeTypes[i]), static_cast<uint8_t>(routeAt - here - 1), 0));
  }
  code.push_back(BPF_STMT(BPF_RET | BPF_K, 0xffffffff));
  // DEV: the ifindex against each wanted one; none: drop
  const uint8_t acceptAt = static_cast<uint8_t>(routeAt + 3);
  code.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, bodyOffset));
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t here = static_cast<uint8_t>(devAt + 1 + i);
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(indexes[i]), static_cast<uint8_t>(acceptAt - here - 1), 0));
  }
  code.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
  // ROUTE: rtm_table
  code.push_back(BPF_STMT(BPF_LD | BPF_B | BPF_ABS, bodyOffset));
  code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(table), 1, 0));
  code.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
  code.push_back(BPF_STMT(BPF_RET | BPF_K, 0xffffffff));
  AttachFilter(env, fd, code);
  return env.Undefined();
}

// GTSM on accepted connections: IP_MINTTL can only be set on a socket after
// accept(), when the peer's first segments (its OPEN) may already be queued
// unchecked. The listener keeps each connection's SYN (TCP_SAVE_SYN), so the
// TTL / hop limit the peer's SYN arrived with can be checked before a single
// byte is read: an off-path sender cannot inject into that connection, so the
// SYN's TTL stands for what was queued with it.
Napi::Value SetSaveSyn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "setSaveSyn(fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof(one)) != 0) {
    ThrowErrno(env, errno, "setsockopt(TCP_SAVE_SYN)", "fd " + std::to_string(fd));
  }
  return env.Undefined();
}

// savedSynTtl(fd): the TTL (IPv4) or hop limit (IPv6) of the SYN that opened
// this accepted connection; -1 when the listener saved none.
Napi::Value SavedSynTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "savedSynTtl(fd: number)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  unsigned char buf[512];
  socklen_t len = sizeof(buf);
  if (getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, buf, &len) != 0) {
    if (errno == ENOENT) return Napi::Number::New(env, -1);
    ThrowErrno(env, errno, "getsockopt(TCP_SAVED_SYN)", "fd " + std::to_string(fd));
    return env.Undefined();
  }
  if (len < 1) return Napi::Number::New(env, -1);
  const int version = buf[0] >> 4;
  if (version == 4 && len >= 20) return Napi::Number::New(env, buf[8]);
  if (version == 6 && len >= 40) return Napi::Number::New(env, buf[7]);
  return Napi::Number::New(env, -1);
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
  InitDurable(env, exports);
  InitRtnl(env, exports);
  exports.Set("restore", Napi::Function::New(env, Restore, "restore"));
  exports.Set("currentInode", Napi::Function::New(env, CurrentInode, "currentInode"));
  exports.Set("setIpTtl", Napi::Function::New(env, SetIpTtl, "setIpTtl"));
  exports.Set("getIpTtl", Napi::Function::New(env, GetIpTtl, "getIpTtl"));
  exports.Set("setMinTtl", Napi::Function::New(env, SetMinTtl, "setMinTtl"));
  exports.Set("getMinTtl", Napi::Function::New(env, GetMinTtl, "getMinTtl"));
  exports.Set("setTcpMd5", Napi::Function::New(env, SetTcpMd5, "setTcpMd5"));
  exports.Set("tcpSocket", Napi::Function::New(env, TcpSocket, "tcpSocket"));
  exports.Set("netlinkTune", Napi::Function::New(env, NetlinkTune, "netlinkTune"));
  exports.Set("setSaveSyn", Napi::Function::New(env, SetSaveSyn, "setSaveSyn"));
  exports.Set("savedSynTtl", Napi::Function::New(env, SavedSynTtl, "savedSynTtl"));
  exports.Set("netlinkDrops", Napi::Function::New(env, NetlinkDrops, "netlinkDrops"));
  exports.Set("netlinkKeepTypes", Napi::Function::New(env, NetlinkKeepTypes, "netlinkKeepTypes"));
  exports.Set("netlinkKeepScoped", Napi::Function::New(env, NetlinkKeepScoped, "netlinkKeepScoped"));
  return exports;
}

}  // namespace

// For the addon's other source files (durable.cc, rtnl.cc).
const char* KnitErrnoCode(int err) { return ErrnoCode(err); }
Napi::Error KnitErrnoError(Napi::Env env, int err, const std::string& syscall, const std::string& what) {
  return ErrnoError(env, err, syscall, what);
}

NODE_API_MODULE(knit_netns, Init)
