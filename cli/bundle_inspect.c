/*
 * `tinymlops bundle inspect B.tmb [--json]`: what a bundle says about itself
 * (header, sections, manifest, certificate, key wraps), parsed by the device
 * library's own parsers. Nothing here is verified: `bundle verify` does that.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_time.h"
#include "cli.h"
#include "host.h"
#include "tinymlops/bundle.h"

static const char *usage = "tinymlops bundle inspect B.tmb [--json]";

#define MAX_LISTED 4096

typedef struct {
    tmo_bundle_header h;
    tmo_bundle_section s[MAX_LISTED];
    uint32_t count;
    tmo_bundle_manifest m;
    tmo_bundle_cert c;
    int has_m, has_c;
    char problem[512];
} parsed;

static const char *tag_name(uint16_t tag)
{
    switch (tag) {
    case TMO_SECTION_PAD:
        return "PAD";
    case TMO_SECTION_MANIFEST:
        return "MANIFEST";
    case TMO_SECTION_CERT:
        return "CERT";
    case TMO_SECTION_WRAP:
        return "WRAP";
    case TMO_SECTION_PROFILE:
        return "PROFILE";
    case TMO_SECTION_KAT:
        return "KAT";
    case TMO_SECTION_SIGNATURE:
        return "SIGNATURE";
    case TMO_SECTION_PAYLOAD:
        return "PAYLOAD";
    default:
        return "unknown";
    }
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void parse(const uint8_t *bytes, size_t len, parsed *p)
{
    tmo_port_mem mem;
    tmo_port_reader r;
    tmo_diag d;
    tmo_diag_clear(&d);
    if (tmo_port_reader_mem(&r, &mem, bytes, len) != TMO_OK || len < TMO_BUNDLE_HEADER_SIZE ||
        tmo_bundle_header_decode(&p->h, bytes, (uint32_t)len, &d) != TMO_OK) {
        host_format_diag(p->problem, sizeof p->problem, "header", &d);
        return;
    }
    uint32_t off = TMO_BUNDLE_HEADER_SIZE;
    for (uint32_t i = 0; i < p->h.section_count && i < MAX_LISTED; i++) {
        tmo_bundle_section *s = &p->s[p->count];
        if (tmo_bundle_section_at(&r, off, s, &d) != TMO_OK) {
            host_format_diag(p->problem, sizeof p->problem, "section", &d);
            return;
        }
        p->count++;
        const uint8_t *v = bytes + s->offset + TMO_BUNDLE_SECTION_HEADER_SIZE;
        if (s->tag == TMO_SECTION_MANIFEST && !p->has_m) {
            if (tmo_bundle_manifest_parse(&p->m, v, s->length, &d) == TMO_OK)
                p->has_m = 1;
            else
                host_format_diag(p->problem, sizeof p->problem, "manifest", &d);
        } else if (s->tag == TMO_SECTION_CERT && !p->has_c) {
            if (tmo_bundle_cert_parse(&p->c, v, s->length, &d) == TMO_OK)
                p->has_c = 1;
            else
                host_format_diag(p->problem, sizeof p->problem, "certificate", &d);
        }
        off = tmo_bundle_section_next(s);
    }
}

static void semver_text(tmo_semver v, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u", v.major, v.minor, v.patch);
}

static json_t *manifest_json(const tmo_bundle_manifest *m)
{
    char buf[128], h[2 * TMO_SHA256_LEN + 1];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_stringn(m->name, m->name_len));
    semver_text(m->version, buf, sizeof buf);
    json_object_set_new(o, "version", json_string(buf));
    json_object_set_new(o, "security_counter", json_integer((json_int_t)m->counter));
    host_format_time(m->created, buf, sizeof buf);
    json_object_set_new(o, "created", json_string(buf));
    if (m->has_expires) {
        host_format_time(m->expires, buf, sizeof buf);
        json_object_set_new(o, "expires", json_string(buf));
    } else {
        json_object_set_new(o, "expires", json_null());
    }
    json_t *arches = json_array();
    for (uint32_t i = 0; i < m->arch_count; i++) {
        uint32_t n;
        const char *a = tmo_bundle_manifest_arch(m, i, &n);
        json_array_append_new(arches, json_stringn(a, n));
    }
    json_object_set_new(o, "arch", arches);
    semver_text(m->min_runtime, buf, sizeof buf);
    json_object_set_new(o, "min_runtime", json_string(buf));
    json_object_set_new(o, "arena_bytes", json_integer((json_int_t)m->arena_bytes));
    json_object_set_new(o, "flash_bytes", json_integer((json_int_t)m->flash_bytes));
    json_t *ops = json_array();
    for (uint32_t i = 0; i < m->op_count; i++)
        json_array_append_new(
            ops, json_string(tmo_builtin_name(m->ops_le[2 * i] | m->ops_le[2 * i + 1] << 8)));
    json_object_set_new(o, "ops", ops);
    json_object_set_new(o, "payload_size", json_integer((json_int_t)m->payload_size));
    hex(m->payload_digest, TMO_SHA256_LEN, h);
    json_object_set_new(o, "payload_sha256", json_string(h));
    hex(m->model_digest, TMO_SHA256_LEN, h);
    json_object_set_new(o, "model_sha256", json_string(h));
    json_object_set_new(o, "encryption",
                        json_string(m->encryption == TMO_ENC_NONE ? "none" : "AES-256-GCM"));
    return o;
}

static json_t *cert_json(const tmo_bundle_cert *c)
{
    char buf[64], h[2 * TMO_KEY_ID_LEN + 1];
    json_t *o = json_object();
    hex(c->subject_id, TMO_KEY_ID_LEN, h);
    json_object_set_new(o, "signing_key_id", json_string(h));
    hex(c->issuer_id, TMO_KEY_ID_LEN, h);
    json_object_set_new(o, "root_key_id", json_string(h));
    host_format_time(c->not_before, buf, sizeof buf);
    json_object_set_new(o, "not_before", json_string(buf));
    host_format_time(c->not_after, buf, sizeof buf);
    json_object_set_new(o, "not_after", json_string(buf));
    json_object_set_new(o, "model_prefix", json_stringn(c->prefix, c->prefix_len));
    return o;
}

static json_t *to_json(const char *path, const uint8_t *bytes, size_t len, const parsed *p)
{
    json_t *o = json_object(), *sections = json_array(), *wraps = json_array();
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "bytes", json_integer((json_int_t)len));
    json_object_set_new(o, "format_version", json_integer(p->h.format_version));
    json_object_set_new(o, "encrypted", json_boolean(p->h.flags & TMO_BUNDLE_FLAG_ENCRYPTED));
    for (uint32_t i = 0; i < p->count; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "tag", json_integer(p->s[i].tag));
        json_object_set_new(s, "name", json_string(tag_name(p->s[i].tag)));
        json_object_set_new(s, "critical", json_boolean(p->s[i].flags & TMO_SECTION_CRITICAL));
        json_object_set_new(s, "offset", json_integer(p->s[i].offset));
        json_object_set_new(s, "length", json_integer(p->s[i].length));
        json_array_append_new(sections, s);
        if (p->s[i].tag == TMO_SECTION_WRAP && p->s[i].length == TMO_WRAP_LEN) {
            char h[2 * TMO_KEY_ID_LEN + 1];
            hex(bytes + p->s[i].offset + TMO_BUNDLE_SECTION_HEADER_SIZE + 1, TMO_KEY_ID_LEN, h);
            json_array_append_new(wraps, json_string(h));
        }
    }
    json_object_set_new(o, "sections", sections);
    json_object_set_new(o, "manifest", p->has_m ? manifest_json(&p->m) : json_null());
    json_object_set_new(o, "certificate", p->has_c ? cert_json(&p->c) : json_null());
    json_object_set_new(o, "wrap_recipient_key_ids", wraps);
    json_object_set_new(o, "verified", json_false());
    if (p->problem[0])
        json_object_set_new(o, "error", json_string(p->problem));
    return o;
}

/* Text rendering: the JSON document's content, one fact per line. */
static void print_text(const char *path, json_t *o)
{
    printf("bundle:       %s (%lld bytes, format v%lld, %s)\n", path,
           json_integer_value(json_object_get(o, "bytes")),
           json_integer_value(json_object_get(o, "format_version")),
           json_is_true(json_object_get(o, "encrypted")) ? "encrypted" : "not encrypted");
    size_t i;
    json_t *v;
    printf("sections:\n");
    json_array_foreach(json_object_get(o, "sections"), i, v)
        printf("  #%-3zu %-9s %-8s offset %-8lld %lld bytes\n", i,
               json_string_value(json_object_get(v, "name")),
               json_is_true(json_object_get(v, "critical")) ? "critical" : "",
               json_integer_value(json_object_get(v, "offset")),
               json_integer_value(json_object_get(v, "length")));
    const char *groups[] = {"manifest", "certificate"};
    for (int g = 0; g < 2; g++) {
        json_t *obj = json_object_get(o, groups[g]), *val;
        const char *key;
        if (!json_is_object(obj))
            continue;
        printf("%s:\n", groups[g]);
        json_object_foreach(obj, key, val)
        {
            char *text = json_is_string(val) ? strdup(json_string_value(val))
                                             : json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
            printf("  %-17s %s\n", key, text ? text : "?");
            free(text);
        }
    }
    printf("key wraps:    %zu\n", json_array_size(json_object_get(o, "wrap_recipient_key_ids")));
    json_array_foreach(json_object_get(o, "wrap_recipient_key_ids"), i, v)
        printf("  recipient key id %s\n", json_string_value(v));
    printf("signature:    not verified (run `tinymlops bundle verify`)\n");
    if (json_object_get(o, "error"))
        printf("error:        %s\n", json_string_value(json_object_get(o, "error")));
}

int cmd_bundle_inspect(int argc, char **argv)
{
    const char *path;
    int json;
    int bad = cli_parse_file_json(argc, argv, usage, "bundle file", &path, &json);
    if (bad != CLI_OK)
        return bad;
    char err[1024];
    size_t len;
    uint8_t *bytes = host_read_file(path, &len, err, sizeof err);
    if (bytes == NULL)
        return cli_fail("%s", err);
    parsed *p = calloc(1, sizeof *p);
    if (p == NULL) {
        free(bytes);
        return cli_fail("out of memory");
    }
    parse(bytes, len, p);
    json_t *o = to_json(path, bytes, len, p);
    int rc = p->problem[0] ? CLI_FAIL : CLI_OK;
    if (json) {
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        print_text(path, o);
    }
    if (rc != CLI_OK)
        fprintf(stderr, "tinymlops: %s: malformed bundle: %s\n", path, p->problem);
    json_decref(o);
    free(p);
    free(bytes);
    return rc;
}
