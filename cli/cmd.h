/*
 * cmd.h - subcommands of the mugai CLI.  main() (cli/main.c) parses
 * global options (-c CONFIG, -o key=value), loads the config and calls
 * one of these with the remaining arguments (argv[0] is the subcommand
 * name).  Each returns a sysexits(3) status: EX_OK, EX_USAGE (64),
 * EX_DATAERR (65), EX_NOINPUT (66), EX_SOFTWARE (70), EX_CANTCREAT (73),
 * EX_IOERR (74), EX_TEMPFAIL (75), EX_NOPERM (77), EX_CONFIG (78),
 * or 2 for "rejected by policy / virus found".  Errors go to stderr as
 * one line: "mugai SUBCOMMAND: what went wrong; what to do".
 */
#ifndef MUGAI_CLI_CMD_H
#define MUGAI_CLI_CMD_H

#include "mugai/base/config.h"

#define MUGAI_EXIT_REJECT 2

int cmd_sanitize(int argc, char **argv, struct mugai_config *cfg);
int cmd_check_config(int argc, char **argv, struct mugai_config *cfg);
int cmd_scan(int argc, char **argv, struct mugai_config *cfg);		/* cli/cmd_scan.c */
int cmd_quarantine(int argc, char **argv, struct mugai_config *cfg);	/* cli/cmd_quarantine.c */
int cmd_web_user(int argc, char **argv, struct mugai_config *cfg);	/* cli/cmd_web_user.c */
int cmd_stats(int argc, char **argv, struct mugai_config *cfg);		/* cli/cmd_report.c */
int cmd_audit(int argc, char **argv, struct mugai_config *cfg);		/* cli/cmd_report.c */

#endif
