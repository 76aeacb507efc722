/*
 * i18n.h - the console's two languages, Japanese and English.
 *
 * Pages are written with English strings; web_t() gives the Japanese
 * for them from one table (an English string missing from the table
 * shows in English, never as nothing).  The language is the "lang"
 * cookie when the user chose one, else the first of ja / en in the
 * browser's Accept-Language by its q-values, else Japanese.
 */
#ifndef MUGAI_WEB_I18N_H
#define MUGAI_WEB_I18N_H

enum web_lang { WEB_LANG_JA, WEB_LANG_EN };

const char *web_t(enum web_lang lang, const char *en);

/* web_lang_pick - from the cookie value (may be NULL) and Accept-Language. */
enum web_lang web_lang_pick(const char *cookie, const char *accept);

const char *web_lang_code(enum web_lang lang);	/* "ja", "en" */

/* web_t_missing - the number of table entries without Japanese (tests). */
int web_t_missing(void);

#endif
