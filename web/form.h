/*
 * form.h - application/x-www-form-urlencoded bodies and query strings.
 *
 * web_form_get() finds the first field called name in an encoded string
 * ("a=1&b=x+y%21") and decodes its value into a new string ('+' is a
 * space, %XX a byte).  NULL when the field is absent or malformed (a bad
 * %-escape or a NUL byte in the value: nothing downstream expects one).
 * The caller frees the result.  web_form_trim() removes white space at
 * both ends in place.  web_form_day() reads a local date "YYYY-MM-DD"
 * from a search form: its start, or with end the start of the next day
 * (so a range "to" that day includes it); 0 for NULL or "", -1 when it
 * is not such a date.
 */
#ifndef MUGAI_WEB_FORM_H
#define MUGAI_WEB_FORM_H

#include <time.h>

char *web_form_get(const char *encoded, const char *name);
char *web_form_trim(char *s);
time_t web_form_day(const char *s, int end);

#endif
