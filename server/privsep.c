/* Messages between lurkd's privileged parent and its serving child (privsep.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "privsep.h"

#define HDR_LEN 5

static int
write_all(int sock, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(sock, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return LURK_ERR_IO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int
read_all(int sock, uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = recv(sock, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return LURK_ERR_EOF;
		if (n < 0)
			return LURK_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
lurkd_privsep_send(int sock, uint8_t type, const uint8_t *p, size_t len, int fd)
{
	uint8_t hdr[HDR_LEN] = {type, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
		(uint8_t)(len >> 8), (uint8_t)len};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t w;

	if (len > UINT32_MAX)
		return LURK_ERR_TOO_LARGE;
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		m.msg_control = cm.buf;
		m.msg_controllen = sizeof(cm.buf);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
	}
	do
		w = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return LURK_ERR_IO;
	if ((size_t)w < sizeof(hdr) && write_all(sock, hdr + w, sizeof(hdr) - (size_t)w) != 0)
		return LURK_ERR_IO;
	return len > 0 ? write_all(sock, p, len) : 0;
}

int
lurkd_privsep_recv(int sock, size_t max, uint8_t *type, uint8_t **p, size_t *len, int *fd)
{
	uint8_t hdr[HDR_LEN];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {.iov_base = hdr, .iov_len = sizeof(hdr)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *h;
	size_t n;
	ssize_t got;
	int r;

	*p = NULL;
	*len = 0;
	*fd = -1;
	memset(&cm, 0, sizeof(cm));
	m.msg_control = cm.buf;
	m.msg_controllen = sizeof(cm.buf);
	do
		got = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	if (got == 0)
		return LURK_ERR_EOF;
	if (got < 0)
		return LURK_ERR_IO;
	for (h = CMSG_FIRSTHDR(&m); h != NULL; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
			h->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(h), sizeof(int));
	if ((size_t)got < sizeof(hdr) &&
		(r = read_all(sock, hdr + got, sizeof(hdr) - (size_t)got)) != 0)
		goto fail;
	*type = hdr[0];
	n = (size_t)hdr[1] << 24 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 8 | hdr[4];
	if (n > max) {
		r = LURK_ERR_TOO_LARGE;
		goto fail;
	}
	if (n > 0) {
		if ((*p = malloc(n)) == NULL) {
			r = LURK_ERR_ALLOC;
			goto fail;
		}
		if ((r = read_all(sock, *p, n)) != 0) {
			free(*p);
			*p = NULL;
			goto fail;
		}
	}
	*len = n;
	return 0;
fail:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return r;
}
