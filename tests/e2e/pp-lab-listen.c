/* pp-lab-listen: the port the full lab's nested guest reaches (issue 13).
 * run-full-lab starts it on this machine before the lab: it listens on
 * 127.0.0.1 only (QEMU's user network takes the guest's 10.0.2.2 there),
 * writes its port to PORT_FILE, takes one connection, reads one line,
 * answers "RUNNER-ACK " and that line, writes the line to GOT_FILE and
 * exits 0; 1 when nothing came within TIMEOUT seconds.
 *
 *   pp-lab-listen PORT_FILE GOT_FILE TIMEOUT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_MAX_BYTES 1024

static int
die(const char *what)
{
  fprintf(stderr, "pp-lab-listen: %s: %s\n", what, strerror(errno));
  return 1;
}

int
main(int argc, char **argv)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof(addr);
  char line[LINE_MAX_BYTES + 1];
  size_t got = 0;
  struct pollfd p;
  FILE *f;
  int s, c, timeout;

  if (argc != 4 || (timeout = atoi(argv[3])) <= 0) {
    fprintf(stderr, "usage: pp-lab-listen PORT_FILE GOT_FILE TIMEOUT\n");
    return 2;
  }
  s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(s, 1) != 0 ||
      getsockname(s, (struct sockaddr *)&addr, &len) != 0)
    return die("listening on 127.0.0.1");
  f = fopen(argv[1], "w");
  if (f == NULL || fprintf(f, "%u\n", ntohs(addr.sin_port)) < 0 || fclose(f) != 0)
    return die(argv[1]);
  p = (struct pollfd){ .fd = s, .events = POLLIN };
  if (poll(&p, 1, timeout * 1000) != 1) {
    fprintf(stderr, "pp-lab-listen: no connection in %d s\n", timeout);
    return 1;
  }
  c = accept(s, NULL, NULL);
  if (c < 0)
    return die("accept");
  /* One line, at most LINE_MAX_BYTES, within 30 s. */
  p = (struct pollfd){ .fd = c, .events = POLLIN };
  while (got < LINE_MAX_BYTES && memchr(line, '\n', got) == NULL && poll(&p, 1, 30000) == 1) {
    ssize_t n = read(c, line + got, LINE_MAX_BYTES - got);

    if (n <= 0)
      break;
    got += (size_t)n;
  }
  line[got] = '\0';
  line[strcspn(line, "\r\n")] = '\0';
  if (dprintf(c, "RUNNER-ACK %s\n", line) < 0)
    return die("answering");
  close(c);
  f = fopen(argv[2], "w");
  if (f == NULL || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0)
    return die(argv[2]);
  return 0;
}
