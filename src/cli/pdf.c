/*
 * pdf.c — printing the report to PDF through headless Chromium, when installed.
 */
#include "pdf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The first of the usual Chromium names found on PATH, into buf; false when none. */
static bool find_chromium(char *buf, size_t size)
{
    static const char *const names[] = {"chromium", "chromium-browser", "google-chrome",
                                        "google-chrome-stable"};
    const char *path = getenv("PATH");
    for (size_t n = 0; path && n < sizeof names / sizeof names[0]; n++) {
        for (const char *p = path; *p;) {
            size_t len = strcspn(p, ":");
            snprintf(buf, size, "%.*s/%s", (int)len, p, names[n]);
            if (access(buf, X_OK) == 0)
                return true;
            p += len + (p[len] == ':');
        }
    }
    return false;
}

int cs_cli_print_pdf(const char *html, char *pdf, size_t pdf_size)
{
    char chromium[1024], url[4200], out_arg[4200], cwd[4096];
    size_t len = strlen(html);
    snprintf(pdf, pdf_size, "%.*s.pdf",
             (int)(len > 5 && !strcmp(html + len - 5, ".html") ? len - 5 : len), html);
    if (!find_chromium(chromium, sizeof chromium)) {
        fprintf(stderr, "careshed: --pdf needs Chromium, which is not installed; install it "
                        "(Debian: apt install chromium) or print %s from a browser\n", html);
        return 1;
    }
    if (html[0] != '/' && !getcwd(cwd, sizeof cwd))
        return 1;
    snprintf(url, sizeof url, "file://%s%s%s", html[0] == '/' ? "" : cwd,
             html[0] == '/' ? "" : "/", html);
    snprintf(out_arg, sizeof out_arg, "--print-to-pdf=%s", pdf);
    pid_t pid = fork();
    if (pid == 0) {
        /* Chromium talks on stderr even when all is well; keep the terminal for careshed */
        if (!freopen("/dev/null", "w", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(127);
        execl(chromium, chromium, "--headless", "--no-sandbox", "--disable-gpu",
              "--no-pdf-header-footer", out_arg, url, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || access(pdf, R_OK) != 0) {
        fprintf(stderr, "careshed: %s could not print %s to %s\n", chromium, html, pdf);
        return 1;
    }
    return 0;
}
