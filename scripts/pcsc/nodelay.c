/* @module LD_PRELOAD shim for pcscd: sets TCP_NODELAY on every accepted TCP socket, so that
 * vsmartcard-vpcd 0.8 (Debian 12), which sends the 2-byte length and the APDU in two send() calls,
 * is not held back by Nagle's algorithm against the card side's delayed ACK (about 40 ms per APDU).
 * See /work/shared/reference/pcsc-testing.md, "The 44 ms problem". Build:
 *   gcc -shared -fPIC -O2 -o nodelay.so nodelay.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

/* Only TCP over IPv4/IPv6 gets the option; pcscd's own AF_UNIX sockets are left as they are. */
static void set_nodelay(int fd) {
  struct sockaddr_storage local;
  socklen_t len = sizeof local;
  int saved = errno;
  if (fd >= 0 && getsockname(fd, (struct sockaddr *)&local, &len) == 0 &&
      (local.ss_family == AF_INET || local.ss_family == AF_INET6)) {
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  errno = saved; /* the caller sees accept's errno, never ours */
}

int accept(int sockfd, struct sockaddr *addr, socklen_t *addrlen) {
  static accept_fn real;
  if (!real) real = (accept_fn)dlsym(RTLD_NEXT, "accept");
  if (!real) { errno = ENOSYS; return -1; }
  int fd = real(sockfd, addr, addrlen);
  set_nodelay(fd);
  return fd;
}

int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags) {
  static accept4_fn real;
  if (!real) real = (accept4_fn)dlsym(RTLD_NEXT, "accept4");
  if (!real) { errno = ENOSYS; return -1; }
  int fd = real(sockfd, addr, addrlen, flags);
  set_nodelay(fd);
  return fd;
}
