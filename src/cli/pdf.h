/*
 * pdf.h — the report printed to PDF by headless Chromium (careshed report --pdf).
 */
#ifndef CS_CLI_PDF_H
#define CS_CLI_PDF_H

#include <stdbool.h>
#include <stddef.h>

/* The PDF's name for report html: the same name ending .pdf. False when too long. */
bool cs_cli_pdf_name(const char *html, char *pdf, size_t pdf_size);

/* Print html to pdf: into a temporary beside it, renamed into place when Chromium has
 * finished, so a failed print leaves an earlier PDF as it was. Returns 0, or 1 after
 * saying on stderr what went wrong (no Chromium on PATH, or it failed). */
int cs_cli_print_pdf(const char *html, const char *pdf);

#endif
