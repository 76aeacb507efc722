/*
 * form.h - application/x-www-form-urlencoded bodies and query strings.
 *
 * web_form_get() finds the first field called name in an encoded string
 * ("a=1&b=x+y%21") and decodes its value into a new string ('+' is a
 * space, %XX a byte).  NULL when the field is absent or malformed (a bad
 * %-escape or a NUL byte in the value: nothing downstream expects one).
 * The caller frees the result.  web_form_trim() removes white space at
 * both ends in place.
 */
#ifndef MUGAI_WEB_FORM_H
#define MUGAI_WEB_FORM_H

char *web_form_get(const char *encoded, const char *name);
char *web_form_trim(char *s);

#endif
