/*
 * pdf.h — the report printed to PDF by headless Chromium (careshed report --pdf).
 */
#ifndef CS_CLI_PDF_H
#define CS_CLI_PDF_H

#include <stdbool.h>
#include <stddef.h>

/* Print html to the same name ending .pdf (into pdf). Returns 0, or 1 after saying on
 * stderr what went wrong (no Chromium on PATH, or it failed). */
int cs_cli_print_pdf(const char *html, char *pdf, size_t pdf_size);

#endif
