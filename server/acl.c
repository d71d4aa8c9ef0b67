#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "acl.h"
#include "err.h"

void
lurk_acl_init(struct lurk_acl *acl)
{
	memset(acl, 0, sizeof(*acl));
	acl->not_before = INT64_MIN;
	acl->not_after = INT64_MAX;
}

static int
digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
lurk_acl_parse_time(const char *s, int64_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, leap;

	*out = 0;
	/* YYYY-MM-DDTHH:MM:SSZ: exactly 20 characters. */
	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != 'Z')
		return LURK_ERR_BAD_FORMAT;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
		digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
		return LURK_ERR_BAD_FORMAT;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
		d > mdays[mo - 1] + (mo == 2 && leap ? 1 : 0) || h > 23 || mi > 59 || sec > 59)
		return LURK_ERR_BAD_FORMAT;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

static int
parse_prefix(const char *tok, struct lurk_acl_prefix *p)
{
	char addr[64];
	const char *slash = strchr(tok, '/');
	size_t alen = slash != NULL ? (size_t)(slash - tok) : strlen(tok);
	int bits = -1, max;

	if (alen == 0 || alen >= sizeof(addr))
		return LURK_ERR_BAD_FORMAT;
	memcpy(addr, tok, alen);
	addr[alen] = '\0';
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		return LURK_ERR_BAD_FORMAT;
	}
	if (slash != NULL) {
		size_t n = strlen(slash + 1);
		if (n == 0 || n > 3 || digits(slash + 1, n, &bits) != 0 || bits > max)
			return LURK_ERR_BAD_FORMAT;
	}
	p->bits = bits < 0 ? (unsigned)max : (unsigned)bits;
	return 0;
}

int
lurk_acl_parse_sources(struct lurk_acl *acl, const char *s)
{
	char tok[80];
	size_t n = 0;

	acl->nsources = 0;
	while (*s != '\0') {
		size_t len;
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		len = strcspn(s, " \t,");
		if (len >= sizeof(tok) || n >= LURK_ACL_MAX_SOURCES) {
			acl->nsources = 0;
			return LURK_ERR_BAD_FORMAT;
		}
		memcpy(tok, s, len);
		tok[len] = '\0';
		if (parse_prefix(tok, &acl->sources[n]) != 0) {
			acl->nsources = 0;
			return LURK_ERR_BAD_FORMAT;
		}
		n++;
		s += len;
	}
	acl->nsources = n;
	return n != 0 ? 0 : LURK_ERR_BAD_FORMAT;
}

int
lurk_acl_time_ok(const struct lurk_acl *acl, int64_t now)
{
	return now >= acl->not_before && now <= acl->not_after;
}

static int
prefix_match(const struct lurk_acl_prefix *p, const uint8_t *addr)
{
	unsigned full = p->bits / 8, rest = p->bits % 8;

	if (memcmp(p->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((p->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int
lurk_acl_source_ok(const struct lurk_acl *acl, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *a4 = NULL, *a6 = NULL;

	if (acl->nsources == 0 || sa->sa_family == AF_UNIX)
		return 1;
	if (sa->sa_family == AF_INET) {
		a4 = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		a6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
		if (memcmp(a6, mapped, sizeof(mapped)) == 0)
			a4 = a6 + 12;
	} else {
		return 0;
	}
	for (size_t i = 0; i < acl->nsources; i++) {
		const struct lurk_acl_prefix *p = &acl->sources[i];
		if (p->family == AF_INET && a4 != NULL && prefix_match(p, a4))
			return 1;
		if (p->family == AF_INET6 && a6 != NULL && prefix_match(p, a6))
			return 1;
	}
	return 0;
}
