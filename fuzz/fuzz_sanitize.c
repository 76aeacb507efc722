/*
 * fuzz_sanitize.c - libFuzzer target: the whole sanitise path on one raw
 * message, as the CLI and the milter run it, minus ClamAV and the
 * quarantine (both need files and would only slow each input down).
 *
 * The limits are small so that one input stays fast and the limit paths
 * (depth, part count, part size, HTML depth) are reached by small inputs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mugai/base/buf.h"
#include "mugai/base/config.h"
#include "mugai/base/log.h"
#include "mugai/sanitize/sanitize.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mugai_config *cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char *const overrides[] = {
		"clamav_enable=no", "quarantine_enable=no", "audit_log=",
		"max_message_size=1M", "max_mime_depth=8", "max_mime_parts=64",
		"max_part_size=256K", "max_html_depth=16",
		("attachment_policy=text/plain text, text/csv csv, "
		    "text/html html, image/* pass, * remove"),
	};
	char err[512];

	mugai_log_open("fuzz", MUGAI_LOG_NONE, 0, 0);
	mugai_library_init();
	cfg = mugai_config_load(NULL, overrides,
	    sizeof(overrides) / sizeof(overrides[0]), err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "fuzz_sanitize: %s\n", err);
		abort();
	}
	return 0;
}

/*
 * A message that went with its own body reads the same to the next
 * reader: sanitised again it goes as it came again, byte for byte (its
 * X-Mugai-Status is replaced by the same line).
 */
static void
kept_again(const struct mugai_services *svc, const struct mugai_envelope *env,
    const struct mugai_buf *out)
{
	struct mugai_result *r = mugai_sanitize(svc, out->data, out->len, env);
	struct mugai_buf again;

	if (r == NULL || r->verdict != MUGAI_VERDICT_DELIVER || !r->body_kept) {
		fprintf(stderr, "kept once, not twice\n");
		abort();
	}
	mugai_buf_init(&again, 0);
	if (mugai_result_write(r, out->data, out->len, &again) != MUGAI_OK ||
	    again.len != out->len || memcmp(again.data, out->data, out->len)) {
		fprintf(stderr, "kept twice, but changed\n");
		abort();
	}
	mugai_buf_free(&again);
	mugai_result_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mugai_services svc = { .cfg = cfg };
	struct mugai_envelope env = { .queue_id = "" };
	struct mugai_result *r;
	struct mugai_buf out;

	r = mugai_sanitize(&svc, (const char *)data, size, &env);
	if (r == NULL)
		return 0;
	/* Fail closed: only an internal error may tempfail. */
	if (r->verdict == MUGAI_VERDICT_TEMPFAIL && size <= cfg->max_message_size) {
		fprintf(stderr, "tempfail: %s\n", r->reason ? r->reason : "-");
		abort();
	}
	if (r->verdict == MUGAI_VERDICT_DELIVER) {
		mugai_buf_init(&out, 0);
		if (mugai_result_write(r, (const char *)data, size, &out) !=
		    MUGAI_OK)
			abort();
		if (r->body_kept)
			kept_again(&svc, &env, &out);
		mugai_buf_free(&out);
	}
	mugai_result_free(r);
	return 0;
}
