/*
 * lurk-tls-serv: a small GnuTLS HTTPS server for the demo and the
 * benchmarks. Unlike gnutls-serv it binds one address (loopback by default),
 * so nothing the demo starts is reachable from the network. Keys and
 * certificates are usually pkcs11: URIs served by lurk-pkcs11.so (loaded
 * through p11-kit's registration, or explicitly with --provider).
 *
 *   lurk-tls-serv [--bind ADDR] --port N [--provider MODULE]
 *                 --cert CERT --key KEY [--cert CERT --key KEY ...] [--count N]
 *
 * Each connection: a handshake, one line on stdout describing it, an HTTP
 * answer naming the session's parameters. Connections are served one at a
 * time, each bounded by a 10 s timeout; --count stops after N handshakes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/pkcs11.h>

#define MAX_PAIRS 8

static int
listen_on(const char *addr, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
	int fd, one = 1;

	if (getaddrinfo(addr, port, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
		bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static void
serve(int fd, gnutls_certificate_credentials_t cred, gnutls_priority_t prio)
{
	struct timeval tv = {10, 0};
	gnutls_session_t s;
	char buf[4096], *desc, page[1024];
	int r, n;

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (gnutls_init(&s, GNUTLS_SERVER) < 0)
		return;
	gnutls_priority_set(s, prio);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(s, fd);
	do
		r = gnutls_handshake(s);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		printf("handshake failed: %s\n", gnutls_strerror(r));
		fflush(stdout);
		gnutls_deinit(s);
		return;
	}
	desc = gnutls_session_get_desc(s);
	printf("handshake: %s\n", desc);
	fflush(stdout);
	/* Read what the client sends (an HTTP request or nothing), then answer. */
	n = (int)gnutls_record_recv(s, buf, sizeof(buf) - 1);
	if (n >= 0) {
		int len = snprintf(page, sizeof(page), "served by lurk: %s\n", desc);
		if (n >= 4 && strncmp(buf, "GET ", 4) == 0) {
			char hdr[256];
			int hl = snprintf(hdr, sizeof(hdr),
				"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				"Content-Length: %d\r\nConnection: close\r\n\r\n",
				len);
			(void)gnutls_record_send(s, hdr, (size_t)hl);
		}
		(void)gnutls_record_send(s, page, (size_t)len);
	}
	(void)gnutls_bye(s, GNUTLS_SHUT_WR);
	gnutls_free(desc);
	gnutls_deinit(s);
}

static void
usage(void)
{
	fprintf(stderr, "usage: lurk-tls-serv [--bind ADDR] --port N [--provider MODULE] "
			"--cert CERT --key KEY [...] [--count N]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *bind_addr = "127.0.0.1", *port = NULL, *provider = NULL;
	const char *certs[MAX_PAIRS], *keys[MAX_PAIRS];
	int ncerts = 0, nkeys = 0, lfd, r;
	long count = -1;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			usage();
		if (strcmp(argv[i], "--bind") == 0)
			bind_addr = v;
		else if (strcmp(argv[i], "--port") == 0)
			port = v;
		else if (strcmp(argv[i], "--provider") == 0)
			provider = v;
		else if (strcmp(argv[i], "--cert") == 0 && ncerts < MAX_PAIRS)
			certs[ncerts++] = v;
		else if (strcmp(argv[i], "--key") == 0 && nkeys < MAX_PAIRS)
			keys[nkeys++] = v;
		else if (strcmp(argv[i], "--count") == 0)
			count = strtol(v, NULL, 10);
		else
			usage();
		i++;
	}
	if (port == NULL || ncerts == 0 || ncerts != nkeys)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (provider != NULL && (gnutls_pkcs11_init(GNUTLS_PKCS11_FLAG_MANUAL, NULL) < 0 ||
					(r = gnutls_pkcs11_add_provider(provider, NULL)) < 0)) {
		fprintf(stderr, "lurk-tls-serv: cannot load %s\n", provider);
		return 1;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
		gnutls_priority_init(&prio, "NORMAL", NULL) < 0)
		return 1;
	for (int i = 0; i < ncerts; i++) {
		r = gnutls_certificate_set_x509_key_file2(
			cred, certs[i], keys[i], GNUTLS_X509_FMT_PEM, NULL, 0);
		if (r < 0) {
			fprintf(stderr, "lurk-tls-serv: %s / %s: %s\n", certs[i], keys[i],
				gnutls_strerror(r));
			return 1;
		}
	}
	if ((lfd = listen_on(bind_addr, port)) < 0) {
		fprintf(stderr, "lurk-tls-serv: cannot listen on %s port %s\n", bind_addr, port);
		return 1;
	}
	printf("listening on %s port %s\n", bind_addr, port);
	fflush(stdout);
	while (count != 0) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd, cred, prio);
		close(fd);
		if (count > 0)
			count--;
	}
	close(lfd);
	gnutls_priority_deinit(prio);
	gnutls_certificate_free_credentials(cred);
	return 0;
}
