/*
 * study_file.c — reads a YAML study file into a cs_config.
 *
 * The YAML tree is flattened into dotted keys and every leaf goes through
 * cs_config_set_at(), so the study file and --set accept exactly the same keys and
 * values and word their complaints the same way. libyaml's document API gives every
 * node its line. Reading goes on after a bad key, so one load reports every problem.
 * A file saved in GBK/GB18030 or Big5 (as editors on Chinese Windows do) is converted
 * to UTF-8 first, with a warning (io/textenc.h says how the encoding is chosen).
 */
#include "io/config.h"
#include "io/textenc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define MAX_FILE_BYTES ((size_t)1 << 20) /* a study file is a page of settings */
#define MAX_DEPTH 6         /* the deepest key has 4 parts: population.bands.80+.share */
/* Nesting checked on libyaml's events before its document loader runs, which takes
 * minutes on a file of '[' (its time grows with the square of the depth). */
#define MAX_NESTING 16 /* levels, the top-level mapping included */
#define MAX_VISITS 10000    /* aliases can make a small file expand enormously */
#define MAX_PROBLEMS 30     /* listed; the rest are counted in one line */

typedef struct walker {
    cs_context *ctx;
    cs_config *cfg;
    yaml_document_t *doc;
    const char *file;
    cs_buf key;         /* the dotted key of the node being walked */
    size_t visits;
    size_t first_message; /* the context's message count when the walk began */
    bool failed;        /* a problem was reported */
    bool out_of_memory;
    size_t too_many_line; /* where the walk passed MAX_VISITS values, else 0 */
    bool stop;          /* out of memory or too much to walk: go no further */
} walker;

static void out_of_memory(walker *w)
{
    w->out_of_memory = true;
    w->stop = true;
}

static void problem(walker *w, size_t line, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(walker *w, size_t line, const char *hint, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cs_where where = {.file = w->file, .line = (long)line,
                      .field = w->key.len ? w->key.data : NULL};
    cs_error(w->ctx, CS_ERR_STUDY, &where, hint, "%s", text);
    w->failed = true;
}

static size_t line_of(const yaml_node_t *node)
{
    return node->start_mark.line + 1;
}

/* Read the whole file; a study file is small, and holding it lets us find the line of
 * a byte libyaml cannot decode. */
static cs_status read_file(cs_context *ctx, const char *path, char **out, size_t *out_len)
{
    cs_where where = {.file = path};
    char reason[128] = "";
    *out = NULL;
    *out_len = 0;
    cs_input_note(ctx, path, "study file");
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (strerror_r(errno, reason, sizeof reason) != 0)
            snprintf(reason, sizeof reason, "error %d", errno);
        return cs_error(ctx, CS_ERR_STUDY, &where, "check the path",
                        "cannot open the study file: %s", reason);
    }
    cs_status st = CS_OK;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    struct stat info;
    if (fstat(fileno(f), &info) == 0 && S_ISDIR(info.st_mode)) {
        st = cs_error(ctx, CS_ERR_STUDY, &where, "check the path",
                      "this is a folder, not a study file");
        goto done;
    }
    for (;;) {
        if (!cs_grow((void **)&buf, &cap, len + 4097, 1)) {
            st = cs_nomem(ctx);
            goto done;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len > MAX_FILE_BYTES) {
            st = cs_error(ctx, CS_ERR_STUDY, &where, "check the path: a study file is small",
                          "the study file is larger than %zu MB", MAX_FILE_BYTES >> 20);
            goto done;
        }
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        st = cs_error(ctx, CS_ERR_STUDY, &where, "check the path and the file's permissions",
                      "cannot read the study file");
        goto done;
    }
    buf[len] = '\0';
done:
    fclose(f);
    if (st != CS_OK) {
        cs_free(buf);
        return st;
    }
    *out = buf;
    *out_len = len;
    return CS_OK;
}

/* Text that is not UTF-8 (nor UTF-16, which libyaml reads itself) becomes UTF-8 when
 * GB18030 or Big5 reads all of it (lines stay where they were); otherwise it is left
 * to libyaml, whose error names the line of the first byte it cannot read. */
static cs_status recode_study(cs_context *ctx, const char *path, char **text, size_t *len)
{
    const unsigned char *u = (const unsigned char *)*text;
    if (cs_utf8_valid(*text, *len) ||
        (*len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))))
        return CS_OK;
    cs_textenc_guess g;
    if (cs_textenc_guess_init(&g) != CS_OK)
        return cs_nomem(ctx);
    cs_status st = cs_textenc_guess_add(&g, *text, *len, 0, 0);
    int chosen = st == CS_OK ? cs_textenc_guess_choose(&g, NULL) : -1;
    cs_buf out;
    cs_buf_init(&out);
    if (chosen >= 0)
        st = cs_textenc_convert(g.enc[chosen], *text, *len, &out, NULL);
    if (chosen >= 0 && st == CS_OK) {
        cs_free(*text);
        *len = out.len;
        *text = cs_buf_take(&out);
        cs_where w = {.file = path};
        cs_warn(ctx, &w, "save the study file as UTF-8 text",
                "the study file is not UTF-8: read as %s",
                chosen == 0 ? "GB18030 (GBK)" : "Big5");
    }
    cs_buf_free(&out);
    cs_textenc_guess_free(&g);
    return st == CS_ERR_NOMEM ? cs_nomem(ctx) : CS_OK;
}

/* Report what libyaml could not parse: file, line, column and its own words. */
static cs_status syntax_problem(walker *w, const yaml_parser_t *p, const char *text,
                                size_t len)
{
    if (p->error == YAML_MEMORY_ERROR)
        return cs_nomem(w->ctx);
    const char *what = p->problem ? p->problem : "unknown problem";
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark: count lines ourselves. */
        size_t end = p->problem_offset < len ? p->problem_offset : len, line = 1, col = 1;
        for (size_t i = 0; i < end; i++) {
            line += text[i] == '\n';
            col = text[i] == '\n' ? 1 : col + 1;
        }
        problem(w, line, "save the study file as UTF-8 text (it is not UTF-8, and neither "
                "GB18030 (GBK) nor Big5 reads it all)",
                "cannot read the text at column %zu: %s", col, what);
        return CS_ERR_STUDY;
    }
    size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;
    const char *hint = "check the indentation, colons and quotes at and above this line";
    if (p->context)
        problem(w, line, hint, "not valid YAML at column %zu: %s (%s, from line %zu)", col,
                what, p->context, (size_t)p->context_mark.line + 1);
    else
        problem(w, line, hint, "not valid YAML at column %zu: %s", col, what);
    return CS_ERR_STUDY;
}

static void set_value(walker *w, const char *value, size_t line)
{
    cs_status st = cs_config_set_at(w->ctx, w->cfg, w->key.data, value, w->file,
                                    line > INT32_MAX ? 0 : (int)line);
    if (st == CS_ERR_NOMEM)
        out_of_memory(w);
    else if (st != CS_OK)
        w->failed = true;
}

/* '~', 'null' and nothing at all, unquoted, restore the default. */
static bool is_null(const yaml_node_t *node)
{
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)node->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

/* Text of a scalar, or NULL (reported) when it holds a NUL no C string can carry. */
static const char *scalar_text(walker *w, const yaml_node_t *node)
{
    const char *v = (const char *)node->data.scalar.value;
    if (strlen(v) != node->data.scalar.length) {
        problem(w, line_of(node), "remove the \\0 escape", "text holds a NUL character");
        return NULL;
    }
    return is_null(node) ? "" : v;
}

/* A list of values becomes "a,b,c", the form --set takes. */
static void set_sequence(walker *w, const yaml_node_t *seq, size_t line)
{
    cs_buf joined;
    cs_buf_init(&joined);
    cs_buf_add(&joined, "");
    bool ok = true;
    for (const yaml_node_item_t *it = seq->data.sequence.items.start;
         ok && it < seq->data.sequence.items.top; it++) {
        const yaml_node_t *item = yaml_document_get_node(w->doc, *it);
        if (!item || item->type != YAML_SCALAR_NODE) {
            problem(w, item ? line_of(item) : line, "write a list of plain values, e.g. [5, 10]",
                    "a list here may hold only single values");
            ok = false;
            break;
        }
        const char *v = scalar_text(w, item);
        if (!v) {
            ok = false;
            break;
        }
        if (strchr(v, ',')) {
            problem(w, line_of(item), "list items are joined with commas, so they cannot "
                    "hold one", "list item '%.100s' contains a comma", v);
            ok = false;
            break;
        }
        if (it > seq->data.sequence.items.start)
            cs_buf_addc(&joined, ',');
        cs_buf_add(&joined, v);
    }
    if (joined.failed)
        out_of_memory(w);
    else if (ok)
        set_value(w, joined.data, line);
    cs_buf_free(&joined);
}

static void walk_mapping(walker *w, const yaml_node_t *map, size_t depth);

static void walk_value(walker *w, const yaml_node_t *value, size_t line, size_t depth)
{
    if (++w->visits > MAX_VISITS) {
        w->too_many_line = line; /* reported after the others are cut (walk_document) */
        w->stop = true;
        return;
    }
    if (value->type == YAML_SCALAR_NODE) {
        const char *v = scalar_text(w, value);
        if (v)
            set_value(w, v, line);
    } else if (value->type == YAML_SEQUENCE_NODE) {
        set_sequence(w, value, line);
    } else if (value->data.mapping.pairs.start == value->data.mapping.pairs.top) {
        set_value(w, "", line); /* {} names an entry with its defaults, like ~ */
    } else if (depth >= MAX_DEPTH) {
        problem(w, line, "no key has more than 4 parts; check the indentation",
                "settings nested too deeply");
    } else {
        walk_mapping(w, value, depth + 1);
    }
}

/* The earlier key of the same mapping equal to key, or NULL. */
static const yaml_node_t *earlier_same_key(walker *w, const yaml_node_pair_t *start,
                                           const yaml_node_pair_t *pair, const yaml_node_t *key)
{
    for (const yaml_node_pair_t *p = start; p < pair; p++) {
        const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            k->data.scalar.length == key->data.scalar.length &&
            !memcmp(k->data.scalar.value, key->data.scalar.value, key->data.scalar.length))
            return k;
    }
    return NULL;
}

/*
 * A target is defined where its id is written ("  beds:"), not at its first setting,
 * which is the line messages about the whole target should point at.
 */
static void mark_new_target(walker *w, size_t targets_before, const char *id, size_t line)
{
    for (size_t i = targets_before; i < w->cfg->target_count; i++)
        if (!strcmp(w->cfg->targets[i].id, id))
            w->cfg->targets[i].line = line > INT32_MAX ? 0 : (int)line;
}

static void walk_pair(walker *w, const yaml_node_pair_t *start, const yaml_node_pair_t *pair,
                      size_t depth)
{
    const yaml_node_t *key = yaml_document_get_node(w->doc, pair->key);
    const yaml_node_t *value = yaml_document_get_node(w->doc, pair->value);
    if (!key || !value)
        return;
    size_t line = line_of(key);
    if (key->type != YAML_SCALAR_NODE) {
        problem(w, line, "write keys as plain text, e.g. walk_speed_kmh:",
                "a key must be text, not a list or a mapping");
        return;
    }
    const char *name = scalar_text(w, key);
    if (!name)
        return;
    size_t mark = w->key.len;
    if (mark)
        cs_buf_addc(&w->key, '.');
    cs_buf_add(&w->key, (const char *)key->data.scalar.value);
    if (w->key.failed) {
        out_of_memory(w);
        return;
    }
    const yaml_node_t *first = earlier_same_key(w, start, pair, key);
    size_t targets_before = w->cfg->target_count;
    if (first)
        problem(w, line, "keep one of them", "key '%.300s' appears twice, on lines %zu and %zu",
                w->key.data, line_of(first), line);
    else
        walk_value(w, value, line, depth);
    if (!strncmp(w->key.data, "targets.", 8) && !strchr(w->key.data + 8, '.'))
        mark_new_target(w, targets_before, w->key.data + 8, line);
    w->key.len = mark;
    w->key.data[mark] = '\0';
}

static void walk_mapping(walker *w, const yaml_node_t *map, size_t depth)
{
    const yaml_node_pair_t *start = map->data.mapping.pairs.start;
    for (const yaml_node_pair_t *pair = start;
         !w->stop && pair < map->data.mapping.pairs.top; pair++)
        walk_pair(w, start, pair, depth);
}

/* Remember the file and its folder, which relative layer paths are taken from. */
static cs_status remember_file(cs_context *ctx, cs_config *cfg, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *file = cs_strdup(path);
    char *dir = NULL;
    if (slash) {
        size_t n = slash == path ? 1 : (size_t)(slash - path); /* "/study.yaml" -> "/" */
        dir = cs_malloc(n + 1);
        if (dir) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (!file || (slash && !dir)) {
        cs_free(file);
        cs_free(dir);
        return cs_nomem(ctx);
    }
    cs_free(cfg->file);
    cfg->file = file;
    cs_free(cfg->base_dir);
    cfg->base_dir = dir;
    return CS_OK;
}

/*
 * Refuse a file nested deeper than MAX_NESTING before loading it: the event parser
 * stops at the first container too deep, after a few events, where the document
 * loader would first build (slowly) every level.
 */
static cs_status check_nesting(walker *w, const char *text, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return cs_nomem(w->ctx);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    cs_status st = CS_OK;
    size_t depth = 0;
    for (bool end = false; !end && st == CS_OK;) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) {
            st = syntax_problem(w, &p, text, len);
            break;
        }
        end = e.type == YAML_STREAM_END_EVENT;
        if (e.type == YAML_SEQUENCE_START_EVENT || e.type == YAML_MAPPING_START_EVENT)
            depth++;
        else if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT)
            depth--;
        if (depth > MAX_NESTING) {
            problem(w, e.start_mark.line + 1, "no key has more than 4 parts; check the "
                    "brackets and the indentation", "settings nested more than %d levels "
                    "deep", MAX_NESTING);
            st = CS_ERR_STUDY;
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&p);
    return st;
}

/* Walk the one document of the file; then make sure no second one follows. */
static cs_status walk_document(walker *w, yaml_parser_t *parser, const char *text, size_t len)
{
    yaml_document_t doc;
    if (!yaml_parser_load(parser, &doc))
        return syntax_problem(w, parser, text, len);
    w->doc = &doc;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        problem(w, 0, "write the settings as key: value lines; see docs/study-file.md",
                "the study file is empty");
    else if (root->type != YAML_MAPPING_NODE)
        problem(w, line_of(root), "write the settings as key: value lines; see "
                "docs/study-file.md", "the study file must hold keys and values, not %s",
                root->type == YAML_SEQUENCE_NODE ? "a list" : "a single value");
    else
        walk_mapping(w, root, 1);
    yaml_document_delete(&doc);
    /* an alias bomb can make thousands of problems before it is stopped */
    cs_context_limit_messages(w->ctx, w->first_message, MAX_PROBLEMS, w->file);
    if (w->too_many_line)
        problem(w, w->too_many_line, "write the settings out instead of repeating them with "
                "aliases", "the study file expands to more than %d values", MAX_VISITS);
    w->doc = NULL;
    if (w->stop || !root)
        return CS_OK;
    if (!yaml_parser_load(parser, &doc))
        return syntax_problem(w, parser, text, len);
    const yaml_node_t *extra = yaml_document_get_root_node(&doc);
    if (extra)
        problem(w, line_of(extra), "keep one document: remove the '---' line",
                "the study file holds more than one YAML document");
    yaml_document_delete(&doc);
    return CS_OK;
}

cs_status cs_config_load(cs_context *ctx, cs_config *cfg, const char *path)
{
    if (!cfg || !path)
        return cs_error(ctx, CS_ERR_ARGUMENT, NULL, NULL, "cs_config_load: %s is NULL",
                        cfg ? "path" : "cfg");
    char *text = NULL;
    size_t len = 0;
    cs_status st = read_file(ctx, path, &text, &len);
    if (st == CS_OK)
        st = recode_study(ctx, path, &text, &len);
    if (st != CS_OK) {
        cs_free(text);
        return st;
    }
    st = remember_file(ctx, cfg, path);
    if (st != CS_OK) {
        cs_free(text);
        return st;
    }
    walker w = {.ctx = ctx, .cfg = cfg, .file = path,
                .first_message = cs_context_message_count(ctx)};
    cs_buf_init(&w.key);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        cs_free(text);
        return cs_nomem(ctx);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    st = check_nesting(&w, text, len);
    if (st == CS_OK)
        st = walk_document(&w, &parser, text, len);
    yaml_parser_delete(&parser);
    cs_buf_free(&w.key);
    cs_free(text);
    if (st == CS_OK && w.out_of_memory)
        st = cs_nomem(ctx);
    else if (st == CS_OK && w.failed)
        st = CS_ERR_STUDY;
    return st;
}
