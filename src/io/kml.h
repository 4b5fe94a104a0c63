/*
 * kml.h — KML files in GBK, GB18030, Big5 or another encoding GDAL's KML reader does
 * not take (kml.c).
 */
#ifndef CS_KML_H
#define CS_KML_H

#include "core/core.h"

/*
 * When path is a .kml file whose text GDAL's reader cannot take as it is — declared in
 * an encoding other than UTF-8, UTF-16, ISO-8859-1 or ASCII, or not UTF-8 where it says
 * it is — or when `encoding` (the study's role.encoding) names another encoding than
 * UTF-8: write its text converted to UTF-8 (from `encoding`, else the declared one,
 * else the candidate that reads it, io/textenc.h), its declaration saying UTF-8, into a
 * file in GDAL's memory, and give that file's path in *copy (cs_free it; VSIUnlink the
 * file when done). *copy is NULL when the file is read as it is. Errors (CS_ERR_INPUT,
 * naming `shown` and role.encoding): an encoding iconv does not know, text that is not
 * valid in the encoding (with its line), text no candidate reads; CS_ERR_NOMEM.
 */
cs_status cs_kml_utf8_copy(cs_context *ctx, const char *path, const char *shown,
                           const char *role, const char *encoding, char **copy);

#endif /* CS_KML_H */
