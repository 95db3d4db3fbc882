#include "infaas_curl.h"
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct infaas_curl { CURL *easy; };

typedef struct { uint8_t *data; size_t length; } buffer_t;

static size_t append(char *ptr, size_t size, size_t count, void *user) {
    buffer_t *b = (buffer_t *)user;
    size_t n = size * count;
    uint8_t *grown = realloc(b->data, b->length + n + 1);
    if (!grown) return 0;
    memcpy(grown + b->length, ptr, n);
    b->data = grown;
    b->length += n;
    b->data[b->length] = 0;
    return n;
}

infaas_curl *infaas_curl_new(void) {
    static int initialised = 0;
    if (!initialised) { curl_global_init(CURL_GLOBAL_DEFAULT); initialised = 1; }
    infaas_curl *h = calloc(1, sizeof(infaas_curl));
    if (!h) return NULL;
    h->easy = curl_easy_init();
    if (!h->easy) { free(h); return NULL; }
    return h;
}

void infaas_curl_free(infaas_curl *h) {
    if (!h) return;
    curl_easy_cleanup(h->easy);
    free(h);
}

void infaas_curl_release(void *buffer) { free(buffer); }

int infaas_curl_perform(infaas_curl *h, const char *method, const char *url, const char *const *headers, int header_count,
                        const uint8_t *request_body, size_t request_length, long timeout_ms, long connect_timeout_ms,
                        long *status, uint8_t **body, size_t *body_length, uint8_t **head, size_t *head_length, char *error) {
    CURL *c = h->easy;
    buffer_t out = {0}, hdr = {0};
    struct curl_slist *list = NULL;
    error[0] = 0;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    if (strcmp(method, "HEAD") == 0) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (request_length > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request_body ? (const char *)request_body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request_length);
    }
    for (int i = 0; i < header_count; i++) list = curl_slist_append(list, headers[i]);
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    CURLcode code = curl_easy_perform(c);
    curl_slist_free_all(list);
    *status = 0;
    if (code == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    else if (!error[0]) strncpy(error, curl_easy_strerror(code), 255);
    *body = out.data; *body_length = out.length;
    *head = hdr.data; *head_length = hdr.length;
    return (int)code;
}
