/*
 * pdf.c — printing the report to PDF through headless Chromium, when installed.
 */
#include "pdf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

bool cs_cli_pdf_name(const char *html, char *pdf, size_t pdf_size)
{
    size_t len = strlen(html);
    int w = snprintf(pdf, pdf_size, "%.*s.pdf",
                     (int)(len > 5 && !strcmp(html + len - 5, ".html") ? len - 5 : len), html);
    return w >= 0 && (size_t)w < pdf_size;
}

/* A new empty temporary beside pdf, its name into tmp; false when none can be made. */
static bool make_temporary(const char *pdf, char *tmp, size_t size)
{
    const char *slash = strrchr(pdf, '/');
    int dir_len = slash ? (int)(slash - pdf + 1) : 0;
    int w = snprintf(tmp, size, "%.*s.%s.tmp-XXXXXX", dir_len, pdf, pdf + dir_len);
    if (w < 0 || (size_t)w >= size)
        return false;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return false;
    (void)fchmod(fd, 0644);
    close(fd);
    return true;
}

int cs_cli_print_pdf(const char *html, const char *pdf)
{
    char chromium[1024], url[12400], out_arg[4200], tmp[4200];
    if (!find_chromium(chromium, sizeof chromium)) {
        fprintf(stderr, "careshed: --pdf needs Chromium, which is not installed; install it "
                        "(Debian: apt install chromium) or print %s from a browser\n", html);
        return 1;
    }
    if (!file_url(html, url, sizeof url) || !make_temporary(pdf, tmp, sizeof tmp) ||
        snprintf(out_arg, sizeof out_arg, "--print-to-pdf=%s", tmp) >= (int)sizeof out_arg) {
        fprintf(stderr, "careshed: %s: cannot make a temporary file beside it to print to, "
                        "or the path is too long; choose another --out\n", pdf);
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
    struct stat info;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || stat(tmp, &info) != 0 || info.st_size == 0 ||
        rename(tmp, pdf) != 0) {
        unlink(tmp);
        fprintf(stderr, "careshed: %s could not print %s to %s\n", chromium, html, pdf);
        return 1;
    }
    return 0;
}
