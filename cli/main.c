/*
 * main.c - the mugai command: global options, config, dispatch.
 *
 *   mugai [-c CONFIG] [-o key=value]... [-v] COMMAND [ARGS]
 *
 * -c and -o may also follow the sanitize, check-config and scan
 * commands, as "mugai sanitize -o key=value IN OUT" reads naturally.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "mugai/base/config.h"
#include "mugai/base/log.h"
#include "cmd.h"

#define DEFAULT_CONFIG	"/etc/mugai/mugai.cf"
#define MAX_OVERRIDES	256

struct command {
	const char *name;
	int	(*run)(int, char **, struct mugai_config *);
	int	 late_options;	/* -c/-o accepted after the name */
	const char *help;
};

static const struct command commands[] = {
	{ "sanitize", cmd_sanitize, 1,
	    "sanitise one message: [--report FILE] [INPUT|-] [OUTPUT|-]" },
	{ "check-config", cmd_check_config, 1,
	    "check the configuration; -v prints every key" },
	{ "scan", cmd_scan, 1, "scan files for viruses: FILE..." },
	{ "quarantine", cmd_quarantine, 0,
	    "list, show, export, release, delete, purge, verify originals" },
	{ "web-user", cmd_web_user, 0,
	    "mugai-web accounts: add, passwd, del, list" },
	{ "stats", cmd_stats, 1,
	    "figures per day or month: [--from DATE] [--to DATE] [--monthly]"
	    " [--csv]" },
	{ "audit", cmd_audit, 1,
	    "the audit log: [--from DATE] [--to DATE] [--user U] [--action A]"
	    " [--id ID] [--csv|--json]" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: mugai [-c CONFIG] [-o key=value]... [-v] "
	    "COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-13s %s\n", commands[i].name, commands[i].help);
	fprintf(fp, "\nWith no -c, %s is read when it exists, else the "
	    "built-in defaults.\nExit status follows sysexits(3); 2 means "
	    "rejected (virus).\n", DEFAULT_CONFIG);
}

struct globals {
	const char *config;
	char	*overrides[MAX_OVERRIDES];
	size_t	 noverrides;
	int	 verbose;
};

/*
 * Take -c, -o and -v out of argv[from..argc), keeping the rest in order.
 * Stops at "--".  Returns the new argc, or -1 after printing an error.
 */
static int
take_options(struct globals *g, int argc, char **argv, int from, int stop_at_word)
{
	int i, out = from;

	for (i = from; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "-o") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "mugai: %s needs an argument\n",
				    argv[i]);
				return -1;
			}
			if (argv[i][1] == 'c')
				g->config = argv[++i];
			else if (g->noverrides == MAX_OVERRIDES) {
				fprintf(stderr, "mugai: more than %d -o options\n",
				    MAX_OVERRIDES);
				return -1;
			} else
				g->overrides[g->noverrides++] = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "-v") == 0) {
			g->verbose = 1;
			continue;
		}
		if (stop_at_word && argv[i][0] != '-') {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

/*
 * Every problem in the configuration, one line each; warnings only for
 * check-config (other commands run from scripts and pipe(8)).
 */
static void
print_problem(void *arg, enum mugai_config_severity sev, const char *msg)
{
	const int *warnings = arg;

	if (sev == MUGAI_CONFIG_ERROR)
		fprintf(stderr, "mugai: %s\n", msg);
	else if (*warnings)
		fprintf(stderr, "mugai: warning: %s\n", msg);
}

int
main(int argc, char **argv)
{
	struct globals g;
	const struct command *cmd = NULL;
	struct mugai_config *cfg;
	size_t i;
	int rc, warnings;

	memset(&g, 0, sizeof(g));
	if ((argc = take_options(&g, argc, argv, 1, 1)) < 0)
		return EX_USAGE;
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : EX_OK;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "mugai: unknown command \"%s\"; run 'mugai "
		    "--help' for the list\n", argv[1]);
		return EX_USAGE;
	}
	argc--;
	argv++;
	if (cmd->late_options && (argc = take_options(&g, argc, argv, 1, 0)) < 0)
		return EX_USAGE;
	if (g.config == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		g.config = DEFAULT_CONFIG;
	mugai_log_open("mugai", MUGAI_LOG_STDERR, LOG_MAIL,
	    g.verbose ? LOG_DEBUG : LOG_WARNING);
	warnings = strcmp(cmd->name, "check-config") == 0;
	cfg = mugai_config_load_report(g.config, g.overrides, g.noverrides,
	    print_problem, &warnings);
	if (cfg == NULL)
		return EX_CONFIG;
	/* -v was taken out of argv above, so there is room to give it back. */
	if (g.verbose && strcmp(cmd->name, "check-config") == 0) {
		argv[argc++] = "-v";
		argv[argc] = NULL;
	}
	rc = cmd->run(argc, argv, cfg);
	mugai_config_unref(cfg);
	return rc;
}
