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

/* The file:// address of path: absolute, each byte outside the unreserved set and '/'
 * percent-encoded (a '#' or '?' in a name would otherwise end the path). */
static bool file_url(const char *path, char *url, size_t size)
{
    char cwd[4096];
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
        return false;
    size_t n = (size_t)snprintf(url, size, "file://");
    for (int part = path[0] == '/'; part < 2; part++) {
        const char *s = part ? path : cwd;
        for (; *s && n + 4 < size; s++) {
            unsigned char c = (unsigned char)*s;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("-._~/", c))
                url[n++] = (char)c;
            else
                n += (size_t)snprintf(url + n, size - n, "%%%02X", c);
        }
        if (*s)
            return false; /* too long */
        if (!part && n + 1 < size)
            url[n++] = '/';
    }
    url[n] = '\0';
    return true;
}

int cs_cli_print_pdf(const char *html, char *pdf, size_t pdf_size)
{
    char chromium[1024], url[12400], out_arg[4200];
    size_t len = strlen(html);
    int w = snprintf(pdf, pdf_size, "%.*s.pdf",
                     (int)(len > 5 && !strcmp(html + len - 5, ".html") ? len - 5 : len), html);
    if (!find_chromium(chromium, sizeof chromium)) {
        fprintf(stderr, "careshed: --pdf needs Chromium, which is not installed; install it "
                        "(Debian: apt install chromium) or print %s from a browser\n", html);
        return 1;
    }
    if (w < 0 || (size_t)w >= pdf_size || !file_url(html, url, sizeof url) ||
        snprintf(out_arg, sizeof out_arg, "--print-to-pdf=%s", pdf) >= (int)sizeof out_arg) {
        fprintf(stderr, "careshed: %s: the path is too long to print to PDF\n", html);
        return 1;
    }
    fflush(NULL); /* or the child's streams would write careshed's pending output again */
    pid_t pid = fork();
    if (pid == 0) {
        /* Chromium talks on stderr even when all is well; keep the terminal for careshed */
        if (!freopen("/dev/null", "w", stderr) || !freopen("/dev/null", "w", stdout))
            _exit(127);
        const char *argv[8];
        int n = 0;
        argv[n++] = chromium;
        argv[n++] = "--headless";
        argv[n++] = "--disable-gpu";
        argv[n++] = "--no-pdf-header-footer";
        if (geteuid() == 0) /* its sandbox cannot run as root (containers, CI) */
            argv[n++] = "--no-sandbox";
        argv[n++] = out_arg;
        argv[n++] = url;
        argv[n] = NULL;
        execv(chromium, (char *const *)argv);
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
