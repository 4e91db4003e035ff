/* tz: reading TZif files (RFC 8536, versions 1 to 4) into a struct tz. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re_types.h>
#include <re_mem.h>
#include <re_fmt.h>
#include "tz/tz.h"
#include "tz/tz_int.h"

/* The largest zone file in tzdata is a few kB ("fat" files up to ~4 kB); anything near
 * this bound is not a zone file. */
enum { TZ_FILE_MAX = 256 * 1024, TZ_NAME_MAX = 255 };

/* RFC 8536 §3.2: offsets SHOULD be within -25h..+26h; a file outside that is broken. */
enum { TZ_UTOFF_MIN = -89999, TZ_UTOFF_MAX = 93599 };

struct tzif_hdr {
	char version;  /* 0, '2', '3', '4'... */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static void tz_destructor(void *arg)
{
	struct tz *tz = arg;

	mem_deref(tz->name);
	mem_deref(tz->trans);
	mem_deref(tz->trans_type);
	mem_deref(tz->types);
	mem_deref(tz->abbrs);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static int hdr_parse(struct tzif_hdr *h, const uint8_t *p, size_t len)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return EINVAL;
	h->version = (char)p[4];
	if (h->version != 0 && (h->version < '2' || h->version > '9'))
		return EINVAL;
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);

	/* Type indices are one byte, so at most 256 types; every file has at least one type
	 * and one designation byte. */
	if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0)
		return EINVAL;
	if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return EINVAL;
	return 0;
}

/* Size in bytes of the data block after a header, with `tsize` bytes per time value. */
static size_t block_size(const struct tzif_hdr *h, size_t tsize)
{
	return (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 + h->charcnt +
	       (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static int block_parse(struct tz *tz, const struct tzif_hdr *h, const uint8_t *p,
		       size_t tsize)
{
	size_t i;

	/* Leap-second files count TAI-like seconds; cccd's instants are POSIX time. */
	if (h->leapcnt != 0)
		return EINVAL;

	tz->n_trans = h->timecnt;
	tz->n_types = h->typecnt;
	tz->n_abbrs = h->charcnt;
	tz->trans = mem_alloc((h->timecnt ? h->timecnt : 1) * sizeof(*tz->trans), NULL);
	tz->trans_type = mem_alloc(h->timecnt ? h->timecnt : 1, NULL);
	tz->types = mem_alloc(h->typecnt * sizeof(*tz->types), NULL);
	tz->abbrs = mem_alloc(h->charcnt + 1, NULL);
	if (!tz->trans || !tz->trans_type || !tz->types || !tz->abbrs)
		return ENOMEM;

	for (i = 0; i < h->timecnt; i++) {
		tz->trans[i] = tsize == 8 ? (int64_t)be64(p) : (int64_t)(int32_t)be32(p);
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
			return EINVAL;
		p += tsize;
	}
	for (i = 0; i < h->timecnt; i++) {
		tz->trans_type[i] = *p++;
		if (tz->trans_type[i] >= h->typecnt)
			return EINVAL;
	}
	for (i = 0; i < h->typecnt; i++) {
		struct tz_ttype *tt = &tz->types[i];
		int32_t utoff = (int32_t)be32(p);

		if (utoff < TZ_UTOFF_MIN || utoff > TZ_UTOFF_MAX || p[4] > 1 ||
		    p[5] >= h->charcnt)
			return EINVAL;
		tt->utoff = utoff;
		tt->isdst = p[4];
		tt->abbr = p[5];
		p += 6;
	}
	/* One extra NUL so that every designation index gives a terminated string even if
	 * the file's last one lacks its NUL. */
	memcpy(tz->abbrs, p, h->charcnt);
	tz->abbrs[h->charcnt] = '\0';

	/* The standard/wall and UT/local indicators only matter for a TZ string without
	 * rules (POSIX "posixrules" emulation), which cccd does not do: skipped. */
	return 0;
}

int tz_parse(struct tz **tzp, const char *name, const uint8_t *buf, size_t len)
{
	struct tzif_hdr h;
	struct tz *tz;
	const uint8_t *p = buf;
	size_t left = len, sz;
	int err;

	if (!tzp || !name || (!buf && len))
		return EINVAL;

	err = hdr_parse(&h, p, left);
	if (err)
		return err;

	tz = mem_zalloc(sizeof(*tz), tz_destructor);
	if (!tz)
		return ENOMEM;
	err = str_dup(&tz->name, name);
	if (err)
		goto out;

	p += 44;
	left -= 44;
	sz = block_size(&h, 4);
	if (sz > left) {
		err = EINVAL;
		goto out;
	}

	if (h.version == 0) {
		/* Version 1: 32-bit data and no footer; the file must end here. */
		err = block_parse(tz, &h, p, 4);
		if (!err && sz != left)
			err = EINVAL;
		goto out;
	}

	/* Version 2+: skip the 32-bit block, read the second header and its 64-bit block. */
	p += sz;
	left -= sz;
	err = hdr_parse(&h, p, left);
	if (err)
		goto out;
	p += 44;
	left -= 44;
	sz = block_size(&h, 8);
	if (sz > left) {
		err = EINVAL;
		goto out;
	}
	err = block_parse(tz, &h, p, 8);
	if (err)
		goto out;
	p += sz;
	left -= sz;

	/* Footer: "\n" TZ-string "\n", the last bytes of the file. */
	if (left < 2 || p[0] != '\n' || p[left - 1] != '\n' ||
	    memchr(p + 1, '\n', left - 2) != NULL) {
		err = EINVAL;
		goto out;
	}
	if (left > 2) {
		err = tz_rule_parse(&tz->rule, (const char *)p + 1, left - 2);
		if (err)
			goto out;
		tz->has_rule = true;
	}

out:
	if (err)
		mem_deref(tz);
	else
		*tzp = tz;
	return err;
}

/* A name is a relative path of non-empty components of [A-Za-z0-9_+-.], none starting
 * with '.', so it can neither climb out of TZ_DIR nor name a hidden file. */
static bool name_ok(const char *name)
{
	size_t len = strlen(name), i;
	bool comp_start = true;

	if (len == 0 || len > TZ_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '/') {
			if (comp_start)
				return false;
			comp_start = true;
			continue;
		}
		if (comp_start && c == '.')
			return false;
		comp_start = false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '.'))
			return false;
	}
	return !comp_start;
}

int tz_load(struct tz **tzp, const char *name)
{
	char path[sizeof(TZ_DIR) + 1 + TZ_NAME_MAX + 1];
	uint8_t *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd, err = 0;

	if (!tzp || !name || !name_ok(name))
		return EINVAL;
	snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? ENOENT : errno;
	if (fstat(fd, &st) != 0) {
		err = errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err = ENOENT;  /* "Asia" is a folder, not a zone */
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
		err = EINVAL;
		goto out;
	}

	buf = mem_alloc((size_t)st.st_size + 1, NULL);
	if (!buf) {
		err = ENOMEM;
		goto out;
	}
	/* Read to the end, not just st_size bytes: a file that grew means a half-written
	 * update, which the size check below then refuses. */
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)st.st_size) {
			err = EINVAL;
			goto out;
		}
	}
	err = tz_parse(tzp, name, buf, got);

out:
	close(fd);
	mem_deref(buf);
	return err;
}

const char *tz_name(const struct tz *tz)
{
	return tz ? tz->name : NULL;
}
