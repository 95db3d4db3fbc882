// A thin C layer over libcurl's easy interface: curl_easy_setopt is variadic, which Swift
// cannot call, so these functions set the options we use with fixed types.
#ifndef INFAAS_CURL_H
#define INFAAS_CURL_H
#include <stddef.h>
#include <stdint.h>

typedef struct infaas_curl infaas_curl;

/// A reusable handle (keeps connections alive between requests). NULL if libcurl failed.
infaas_curl *infaas_curl_new(void);
void infaas_curl_free(infaas_curl *handle);

/// Performs one request. `headers` are "Name: value" lines. On return `*status` is the HTTP
/// status (0 if none), `*body`/`*body_length` and `*head`/`*head_length` the response body and
/// header block (malloc'd; free with infaas_curl_release). Returns 0 or a CURLcode, with a
/// message in `error` (at least 256 bytes).
int infaas_curl_perform(infaas_curl *handle, const char *method, const char *url, const char *const *headers, int header_count,
                        const uint8_t *request_body, size_t request_length, long timeout_ms, long connect_timeout_ms,
                        long *status, uint8_t **body, size_t *body_length, uint8_t **head, size_t *head_length, char *error);

void infaas_curl_release(void *buffer);

#endif
