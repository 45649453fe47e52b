/*
 * The dashboard's files as the server serves them (docs/dashboard.md). The
 * table is generated at build time by web/CMakeLists.txt (web_assets.c in
 * the build tree) from web/src and the npm packages the dashboard uses, so
 * the `tinymlops` binary carries its own dashboard and needs no directory
 * installed next to it.
 */
#ifndef TMO_WEB_ASSETS_H
#define TMO_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *name;         /* file name as requested: "index.html", "app.js" */
    const char *content_type; /* e.g. "text/javascript; charset=utf-8" */
    const unsigned char *data;
    size_t size;
    const char *etag; /* "\"<first 32 hex of SHA-256>\"", quotes included */
} web_asset;

extern const web_asset web_assets[];
extern const size_t web_asset_count;

#endif
