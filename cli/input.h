/*
 * input.h - reading a message or file for the CLI, and the services a
 * sanitise call needs.
 */
#ifndef MUGAI_CLI_INPUT_H
#define MUGAI_CLI_INPUT_H

#include <stddef.h>
#include "mugai/sanitize/sanitize.h"

/*
 * cli_read - read path ("-" or NULL: stdin) into a malloc'd buffer, at
 * most cap + 1 bytes (so the caller can tell "over the cap").  Returns 0,
 * or a sysexits status after printing "mugai CMD: PATH: why".
 */
int cli_read(const char *cmd, const char *path, size_t cap, char **data,
    size_t *len);

/*
 * cli_services_open - scanner and quarantine as the config asks.
 * Returns 0, or a sysexits status after printing one line of error.
 */
int cli_services_open(const char *cmd, const struct mugai_config *cfg,
    struct mugai_services *svc);
void cli_services_close(struct mugai_services *svc);

#endif
