/*
 * textenc.h — text that is not UTF-8: Chinese files are often saved in GBK (CP936),
 * GB18030 or Big5. Checks that text is UTF-8, chooses the legacy encoding of text that
 * is not, and converts it to UTF-8 with iconv, refusing rather than replacing what does
 * not convert. Every text value read from a layer (io/layer.c) and the study file pass
 * through here, so that no output holds U+FFFD or bytes that are not UTF-8.
 *
 * The rule that chooses an encoding (cs_textenc_guess): the candidates are GB18030 (a
 * superset of GBK and GB2312) and Big5. A candidate that fails to convert any value is
 * out. Of the rest, the one whose text holds the fewest characters that Chinese names
 * do not use (private-use code points, kana, Greek, Cyrillic, box drawing, bopomofo,
 * Hangul, compatibility ideographs) wins, GB18030 on a tie. Big5 text always converts
 * as GB18030 (its byte pairs are valid GBK pairs) but turns into kana, Greek and
 * private-use characters; GBK text mostly fails as Big5.
 */
#ifndef CS_TEXTENC_H
#define CS_TEXTENC_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>

/* Whether the n bytes at s are UTF-8 (NUL bytes allowed). */
bool cs_utf8_valid(const char *s, size_t n);

/* Whether the n bytes at s are UTF-8 whose every character beyond ASCII (at least one)
 * takes two bytes (U+0080 to U+07FF: Latin-1, Greek, Cyrillic, Hebrew, Arabic...), as
 * GBK or Big5 byte pairs do when they happen to be valid UTF-8 (住宅 in GBK reads as
 * Hebrew and Armenian). Chinese in UTF-8 takes three bytes a character. */
bool cs_utf8_two_byte_only(const char *s, size_t n);

/* Whether an encoding name means UTF-8 ("UTF-8", "utf8"...): text is checked, not
 * converted. */
bool cs_textenc_is_utf8(const char *encoding);

/* A converter from one encoding to UTF-8. */
typedef struct cs_textenc cs_textenc;

/* New converter (free with cs_textenc_close), or NULL when iconv does not know the
 * encoding or memory ran out. */
cs_textenc *cs_textenc_open(const char *encoding);
void cs_textenc_close(cs_textenc *enc);
/* The name it was opened with. Borrowed. */
const char *cs_textenc_name(const cs_textenc *enc);

/*
 * Convert the n bytes at in to UTF-8, replacing out's content (NUL-terminated). Returns
 * CS_OK; CS_ERR_INPUT when the bytes are not valid in the encoding (out then holds the
 * text with every byte that is not ASCII shown as '?', for messages; *bad_offset, when
 * not NULL, receives the offset of the first byte that failed); CS_ERR_NOMEM.
 */
cs_status cs_textenc_convert(cs_textenc *enc, const char *in, size_t n, cs_buf *out,
                             size_t *bad_offset);

/* cs_textenc_convert, and CS_ERR_INPUT also when the text it gives holds a character
 * Chinese names do not use (those cs_textenc_guess counts against a candidate). */
cs_status cs_textenc_convert_plain(cs_textenc *enc, const char *in, size_t n, cs_buf *out);

/* Choosing among the candidates: feed every value that is not UTF-8, then ask. */
#define CS_TEXTENC_CANDIDATES 2
typedef struct cs_textenc_guess {
    cs_textenc *enc[CS_TEXTENC_CANDIDATES];
    size_t failures[CS_TEXTENC_CANDIDATES]; /* values that did not convert */
    size_t odd[CS_TEXTENC_CANDIDATES];      /* characters Chinese names do not use */
    long first_failure[CS_TEXTENC_CANDIDATES][2]; /* the caller's tags of the first */
    size_t values;
    cs_buf scratch;
} cs_textenc_guess;

/* Start a guess. CS_OK or CS_ERR_NOMEM (nothing to free then). */
cs_status cs_textenc_guess_init(cs_textenc_guess *g);
/* Add one value; tag1 and tag2 say where it is (e.g. feature and field), kept for the
 * first value each candidate fails on. CS_OK or CS_ERR_NOMEM. */
cs_status cs_textenc_guess_add(cs_textenc_guess *g, const char *text, size_t n, long tag1,
                               long tag2);
/* The chosen candidate's index, or -1 when every candidate failed on some value; *best
 * receives the index of the candidate that failed least (GB18030 on a tie), whose
 * first failure the caller should name. */
int cs_textenc_guess_choose(const cs_textenc_guess *g, int *best);
/* The candidate's name as the user would write it in *.encoding ("GB18030", "BIG5"). */
const char *cs_textenc_guess_name(int candidate);
/* Take candidate's converter out of the guess (the caller closes it). */
cs_textenc *cs_textenc_guess_take(cs_textenc_guess *g, int candidate);
void cs_textenc_guess_free(cs_textenc_guess *g);

/* A plain description of the candidates tried, for messages: "UTF-8, GB18030 (GBK) and
 * Big5". Static text. */
const char *cs_textenc_tried(void);

#endif
