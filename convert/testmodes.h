/*
 * testmodes.h - mugai-convert test-* modes: each enters the sandbox as a
 * real mode does, then misbehaves on purpose (opens a file, connects a
 * socket, takes too much memory, spins, sleeps), so the tests can show
 * that the sandbox and the parent stop it.  Harmless in production: a
 * mode only ever harms the sandbox it runs in.
 */
#ifndef MUGAI_CONVERT_TESTMODES_H
#define MUGAI_CONVERT_TESTMODES_H

#include "convert.h"

/* Returns the exit code; unknown names give MUGAI_CONVERT_EXIT_USAGE. */
int convert_test_mode(const char *mode, const struct convert_opts *o);

#endif
